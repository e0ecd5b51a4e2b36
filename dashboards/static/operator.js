// Operator pages: SLA countdowns, one-click "take", ticket updates through the ticket API, live queue.
(function () {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  function tick() {
    const now = Date.now();
    document.querySelectorAll(".countdown").forEach(function (el) {
      const left = Math.round((Date.parse(el.dataset.due) - now) / 60000);
      const over = left < 0;
      const abs = Math.abs(left);
      const text = abs >= 1440 ? Math.floor(abs / 1440) + " ngày" : abs >= 60 ? Math.floor(abs / 60) + " giờ " + (abs % 60) + " phút" : abs + " phút";
      el.textContent = over ? "Quá hạn " + text : "Còn " + text;
      el.classList.toggle("overdue", over);
      const row = el.closest("tr");
      if (row) row.classList.toggle("overdue", over);
    });
  }

  async function patch(id, body) {
    const resp = await fetch("/api/tickets/" + encodeURIComponent(id), {
      method: "PATCH", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf}, body: JSON.stringify(body)});
    const data = await resp.json().catch(function () { return {}; });
    if (!resp.ok) {
      const why = resp.status === 409 ? "Phiếu vừa được người khác cập nhật. Tải lại trang để xem thay đổi." : (data.message || "Không lưu được (" + resp.status + ").");
      throw new Error(why);
    }
    return data;
  }

  function me() { return (document.querySelector(".logout span") || {textContent: ""}).textContent.split(" (")[0]; }

  function showError(err) {
    const box = document.getElementById("action-error");
    if (box) { box.textContent = err.message; box.hidden = false; } else { alert(err.message); }
  }

  document.querySelectorAll("button.take").forEach(function (btn) {
    btn.addEventListener("click", function () {
      patch(btn.dataset.ticket, {assignee: me()}).then(function () { location.reload(); }, showError);
    });
  });

  const page = document.getElementById("ticket");
  if (page) {
    const id = page.dataset.ticket, version = page.dataset.version;
    const take = document.getElementById("take");
    if (take) take.addEventListener("click", function () {
      patch(id, {version: version, assignee: me()}).then(function () { location.reload(); }, showError);
    });
    document.getElementById("save").addEventListener("click", function () {
      const body = {version: version};
      const status = document.getElementById("new-status").value;
      const category = document.getElementById("new-category").value;
      const note = document.getElementById("note").value.trim();
      const follow = document.getElementById("follow-up").value;
      const merge = document.getElementById("merge-into").value.trim();
      // Only what the operator changed: an untouched category must not count as a verified label.
      if (status && status !== page.dataset.status) body.status = status;
      if (category && category !== page.dataset.category) body.category = category;
      if (note) body.note = note;
      if (follow) body.follow_up_at = new Date(follow).toISOString();
      if (merge) body.merged_into = merge;
      patch(id, body).then(function () { location.reload(); }, showError);
    });
  }

  const total = document.getElementById("queue-total");
  if (total) {
    // Poll the ticket API and reload when the queue changed; simpler and sturdier than a socket.
    const query = new URLSearchParams(location.search);
    if (!query.get("status")) query.set("status", "new,assigned,in_progress,reopened");
    query.set("size", "1");
    query.set("sort", "newest");
    let seen = null;
    setInterval(function () {
      fetch("/api/tickets?" + query.toString(), {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (data) {
        const key = data.total + ":" + (data.tickets[0] ? data.tickets[0].id : "");
        if (seen !== null && key !== seen) location.reload();
        seen = key;
      }).catch(function () {});
    }, 10000);
  }

  tick();
  setInterval(tick, 30000);
})();
