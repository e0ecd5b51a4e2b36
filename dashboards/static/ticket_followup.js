// Ticket page (issue 17): reply through the Zalo OA, and register the caller as a home-isolation case.
(function () {
  "use strict";
  const box = document.getElementById("ticket-followup");
  if (!box) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const id = box.dataset.ticket;

  async function post(url, body) {
    const resp = await fetch(url, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf}, body: JSON.stringify(body)});
    const data = await resp.json().catch(function () { return {}; });
    if (!resp.ok) throw new Error(data.message || "Không thực hiện được (" + resp.status + ").");
    return data;
  }

  function show(elId, text) { const el = document.getElementById(elId); el.textContent = text; el.hidden = !text; }

  const send = document.getElementById("zalo-send");
  if (send) send.addEventListener("click", function () {
    const text = document.getElementById("zalo-text").value.trim();
    if (!text) { show("zalo-error", "Hãy nhập nội dung trả lời."); return; }
    send.disabled = true;
    post("/api/tickets/" + encodeURIComponent(id) + "/zalo-reply", {text: text})
      .then(function () { location.reload(); }, function (err) { show("zalo-error", err.message); send.disabled = false; });
  });

  document.getElementById("f0-register").addEventListener("click", function () {
    const body = {ticket_id: id, name: document.getElementById("f0-name").value.trim(),
                  consent: document.getElementById("f0-consent").checked};
    const age = document.getElementById("f0-age").value;
    const address = document.getElementById("f0-address").value.trim();
    const start = document.getElementById("f0-start").value;
    if (age) body.age = parseInt(age, 10);
    if (address) body.address = address;
    if (start) body.start_date = start;
    post("/api/isolation/cases", body).then(function (c) {
      show("f0-error", ""); show("f0-ok", "Đã đăng ký theo dõi (" + c.ward + ", " + c.district + ").");
    }, function (err) { show("f0-error", err.message); });
  });
})();
