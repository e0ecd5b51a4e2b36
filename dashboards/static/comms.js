// Communications pages: review a claim and register a checked claim, through the claims API with CSRF.
(function () {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  async function send(method, url, body) {
    const resp = await fetch(url, {method: method, credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf}, body: JSON.stringify(body)});
    const data = await resp.json().catch(function () { return {}; });
    if (!resp.ok) {
      throw new Error(resp.status === 409 ? "Tin đồn vừa được người khác cập nhật. Tải lại trang để xem." : (data.message || "Không lưu được (" + resp.status + ")."));
    }
    return data;
  }

  function fail(id) {
    return function (err) { const box = document.getElementById(id); box.textContent = err.message; box.hidden = false; };
  }

  const claim = document.getElementById("claim");
  if (claim) {
    document.getElementById("save").addEventListener("click", function () {
      const body = {version: claim.dataset.version};
      const state = document.getElementById("new-state").value;
      const verdict = document.getElementById("new-verdict").value;
      const text = document.getElementById("correction-text").value.trim();
      const url = document.getElementById("correction-url").value.trim();
      const note = document.getElementById("note").value.trim();
      if (state !== claim.dataset.state) body.state = state;
      if (verdict && verdict !== claim.dataset.verdict) body.verdict = verdict;
      if (text) body.correction_text = text;
      if (url) body.correction_url = url;
      if (note) body.note = note;
      send("PATCH", "/api/claims/" + encodeURIComponent(claim.dataset.claim), body)
        .then(function () { location.reload(); }, fail("action-error"));
    });
  }

  if (claim) {
    const claimUrl = "/api/claims/" + encodeURIComponent(claim.dataset.claim);
    const merge = function (other, otherVersion) {
      const body = {other: other, version: claim.dataset.version};
      if (otherVersion) body.other_version = otherVersion;
      return send("POST", claimUrl + "/merge", body).then(function () { location.reload(); }, fail("merge-error"));
    };
    document.querySelectorAll("button.merge").forEach(function (button) {
      button.addEventListener("click", function () { merge(button.dataset.other, button.dataset.otherVersion); });
    });
    document.getElementById("merge").addEventListener("click", function () {
      const other = document.getElementById("merge-other").value.trim();
      if (other) merge(other, null);
    });
    document.getElementById("split").addEventListener("click", function () {
      const ids = Array.from(document.querySelectorAll("input.pick:checked")).map(function (box) { return box.value; });
      if (!ids.length) {
        fail("split-error")(new Error("Chọn ít nhất một bài đăng để tách."));
        return;
      }
      send("POST", claimUrl + "/split", {post_ids: ids, version: claim.dataset.version})
        .then(function () { location.reload(); }, fail("split-error"));
    });
  }

  const known = document.getElementById("known-claim");
  if (known) {
    known.addEventListener("submit", function (event) {
      event.preventDefault();
      const form = new FormData(known);
      const body = {};
      form.forEach(function (value, key) { if (String(value).trim()) body[key] = String(value).trim(); });
      send("POST", "/api/known-claims", body).then(function () { location.reload(); }, fail("known-error"));
    });
  }
})();
