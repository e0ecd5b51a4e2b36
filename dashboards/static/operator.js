// Operator pages: SLA countdowns, safe "take" (with the version read), ticket updates and SMS replies through
// the ticket API, a live queue updated row by row (never a reload over what someone is typing), keyboard keys.
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

  async function send(method, url, body) {
    const resp = await fetch(url, {
      method: method, credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(body)});
    const data = await resp.json().catch(function () { return {}; });
    if (!resp.ok) {
      // The server's 409 names who holds the ticket now; other errors carry their own message.
      const why = data.message || (resp.status === 409 ? "Phiếu vừa được người khác cập nhật. Tải lại trang để xem thay đổi." : "Không lưu được (" + resp.status + ").");
      const err = new Error(why);
      err.status = resp.status;
      throw err;
    }
    return data;
  }

  function patch(id, body) { return send("PATCH", "/api/tickets/" + encodeURIComponent(id), body); }

  function showError(err, id) {
    const box = document.getElementById(id || "action-error");
    if (box) { box.textContent = err.message; box.hidden = false; } else { window.alert(err.message); }
  }

  // --- the queue ---------------------------------------------------------------------------------
  const live = document.getElementById("live");
  let selected = null;  // data-ticket of the row chosen with j/k

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("table.queue tbody tr[data-ticket]")); }

  function select(row) {
    rows().forEach(function (r) { r.classList.remove("selected"); r.removeAttribute("aria-selected"); });
    if (!row) { selected = null; return; }
    row.classList.add("selected");
    row.setAttribute("aria-selected", "true");
    selected = row.dataset.ticket;
    row.scrollIntoView({block: "nearest"});
  }

  function wireTakes(root) {
    root.querySelectorAll("button.take").forEach(function (btn) {
      if (btn.dataset.wired) return;
      btn.dataset.wired = "1";
      btn.addEventListener("click", function () { take(btn.closest("tr")); });
    });
  }

  function take(row) {
    if (!row || !row.querySelector("button.take")) return;
    const box = document.getElementById("action-error");
    if (box) box.hidden = true;
    patch(row.dataset.ticket, {version: row.dataset.version, assignee: live.dataset.me})
      .then(function () { return refresh(); }, function (err) { showError(err); return refresh(); });
  }

  // Replace only the rows that changed, in place; the filter form and the focus are left alone.
  async function refresh() {
    const resp = await fetch(location.href, {credentials: "same-origin", headers: {"Accept": "text/html"}});
    if (!resp.ok) return;
    const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
    const fresh = doc.querySelector("table.queue tbody");
    const tbody = document.querySelector("table.queue tbody");
    if (!fresh || !tbody) return;
    const old = {};
    rows().forEach(function (r) { old[r.dataset.ticket] = r; });
    const next = [];
    Array.prototype.forEach.call(fresh.children, function (r) {
      const have = r.dataset.ticket && old[r.dataset.ticket];
      next.push(have && have.dataset.version === r.dataset.version && sameCells(have, r) ? have : document.importNode(r, true));
    });
    next.forEach(function (r, i) { if (tbody.children[i] !== r) tbody.insertBefore(r, tbody.children[i] || null); });
    while (tbody.children.length > next.length) tbody.removeChild(tbody.lastChild);
    ["queue-range", "queue-total", "callbacks"].forEach(function (id) {
      const now = document.getElementById(id), then = doc.getElementById(id);
      if (now && then) now.innerHTML = then.innerHTML;
      else if (!now && then) live.insertBefore(document.importNode(then, true), live.firstChild);
      else if (now && !then) now.remove();
    });
    wireTakes(tbody);
    tick();
    if (selected) select(tbody.querySelector('tr[data-ticket="' + CSS.escape(selected) + '"]'));
  }

  function sameCells(a, b) {
    // Countdowns are rewritten every tick on the page; compare what the server sends, not what tick() wrote.
    const strip = function (row) { return Array.prototype.map.call(row.querySelectorAll("td"), function (td) {
      return td.querySelector(".countdown") ? td.querySelector(".countdown").dataset.due : td.textContent.trim(); }).join("|"); };
    return strip(a) === strip(b);
  }

  if (live) {
    wireTakes(document);
    setInterval(function () { if (!document.hidden) refresh().catch(function () {}); }, 10000);

    const help = document.getElementById("help");
    function toggleHelp(show) { help.hidden = show === undefined ? !help.hidden : !show; if (!help.hidden) document.getElementById("help-close").focus(); }
    document.getElementById("help-open").addEventListener("click", function () { toggleHelp(true); });
    document.getElementById("help-close").addEventListener("click", function () { toggleHelp(false); });

    document.addEventListener("keydown", function (event) {
      const target = event.target;
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
      if (event.key === "?") { toggleHelp(); event.preventDefault(); return; }
      if (event.key === "Escape" && !help.hidden) { toggleHelp(false); return; }
      if (!help.hidden) return;
      const all = rows();
      const index = all.findIndex(function (r) { return r.dataset.ticket === selected; });
      if (event.key === "j") { select(all[Math.min(index + 1, all.length - 1)]); event.preventDefault(); }
      else if (event.key === "k") { select(all[Math.max(index - 1, 0)]); event.preventDefault(); }
      else if (event.key === "Enter" && index >= 0) { all[index].querySelector("a.open").click(); event.preventDefault(); }
      else if (event.key === "t" && index >= 0) { take(all[index]); event.preventDefault(); }
      else if (event.key === "/") { document.querySelector('#queue-filters input[name="q"]').focus(); event.preventDefault(); }
    });
  }

  // --- the ticket page ---------------------------------------------------------------------------
  const page = document.getElementById("ticket");
  if (page) {
    const id = page.dataset.ticket, version = page.dataset.version;
    const takeButton = document.getElementById("take");
    if (takeButton) takeButton.addEventListener("click", function () {
      patch(id, {version: version, assignee: page.dataset.me}).then(function () { location.reload(); }, function (e) { showError(e); });
    });
    document.getElementById("save").addEventListener("click", function () {
      const body = {version: version};
      const status = document.getElementById("new-status").value;
      const category = document.getElementById("new-category").value;
      const assignee = document.getElementById("new-assignee");
      const note = document.getElementById("note").value.trim();
      const follow = document.getElementById("follow-up").value;
      const merge = document.getElementById("merge-into").value.trim();
      // Only what the operator changed: an untouched category must not count as a verified label.
      if (status && status !== page.dataset.status) body.status = status;
      if (category && category !== page.dataset.category) body.category = category;
      if (assignee.value !== (assignee.querySelector("option[selected]") || {value: ""}).value) body.assignee = assignee.value;
      if (note) body.note = note;
      // The input is wall-clock time in Việt Nam whatever the browser's own time zone is.
      if (follow) body.follow_up_at = follow + (follow.length === 16 ? ":00" : "") + "+07:00";
      if (merge) body.merged_into = merge;
      patch(id, body).then(function () { location.reload(); }, function (e) { showError(e); });
    });

    const form = document.getElementById("reply-form");
    if (form) {
      let key = null;  // one key per message: a second click or a retry of the same text is not a second SMS
      const textarea = document.getElementById("reply-body");
      textarea.addEventListener("input", function () { key = null; });
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        const text = textarea.value.trim();
        if (!text) return;
        if (!key) key = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + "-" + Math.random().toString(36).slice(2, 10);
        const button = document.getElementById("reply-send");
        button.disabled = true;
        document.getElementById("reply-error").hidden = true;
        send("POST", "/api/tickets/" + encodeURIComponent(id) + "/replies", {body: text, key: key}).then(function () {
          const status = document.getElementById("reply-status");
          status.textContent = "Đang gửi tin nhắn…";
          status.hidden = false;
          return waitForReply(id, key);
        }).then(function () { location.reload(); }, function (e) { button.disabled = false; showError(e, "reply-error"); });
      });
    }
  }

  async function waitForReply(id, key) {
    for (let i = 0; i < 40; i++) {
      await new Promise(function (done) { setTimeout(done, 500); });
      const resp = await fetch("/api/tickets/" + encodeURIComponent(id), {credentials: "same-origin", headers: {"Accept": "application/json"}});
      const data = await resp.json();
      const done = (data.history || []).some(function (c) {
        return (c.action === "sms_reply_sent" || c.action === "sms_reply_failed") && c.after && c.after.key === key; });
      if (done) return;
    }
  }

  tick();
  setInterval(tick, 30000);
})();
