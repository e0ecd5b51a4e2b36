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
