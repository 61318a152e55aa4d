// A little help where it clearly helps; every page works without it.
(function () {
  "use strict";
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d")
      .replace(/Đ/g, "D").toLowerCase();
  }
  // The quota counter of a multi-choice ballot: "2 / 3 đã chọn", the rest disabled at the quota.
  document.querySelectorAll("[data-quota]").forEach(function (box) {
    var max = parseInt(box.getAttribute("data-quota"), 10);
    var out = box.querySelector("[data-counter]");
    var inputs = box.querySelectorAll("input[type=checkbox][data-candidate]");
    function update() {
      var n = 0;
      inputs.forEach(function (i) { if (i.checked) { n += 1; } });
      if (out) { out.textContent = out.getAttribute("data-template").replace("{n}", n).replace("{max}", max); }
      inputs.forEach(function (i) { i.disabled = !i.checked && n >= max; });
    }
    inputs.forEach(function (i) { i.addEventListener("change", update); });
    update();
  });
  // Live search in a long list of candidates (diacritics optional: "so noi vu" finds "Sở Nội vụ").
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var items = document.querySelectorAll(input.getAttribute("data-filter"));
    input.addEventListener("input", function () {
      var q = fold(input.value.trim());
      items.forEach(function (item) {
        item.classList.toggle("hidden", q !== "" && fold(item.textContent).indexOf(q) < 0);
      });
    });
  });
  // The Telegram Mini App: its launch data arrive in the address's fragment; post them.
  var tma = document.getElementById("tma-form");
  if (tma) {
    var params = new URLSearchParams(window.location.hash.slice(1));
    var data = params.get("tgWebAppData");
    if (data) {
      document.getElementById("init-data").value = data;
      tma.submit();
    }
  }
  // A form sent once: its buttons wait for the answer, so a double tap (or an impatient second
  // one on a slow connection) sends nothing twice. Back on the page (the back button), or after
  // 15 s without an answer, they can be pressed again.
  function release() {
    document.querySelectorAll("button[data-sent]").forEach(function (b) {
      b.disabled = false;
      b.removeAttribute("data-sent");
    });
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !(form instanceof HTMLFormElement) || form.target) { return; }
    // After this turn: the browser has taken the pressed button's value with the form.
    setTimeout(function () {
      form.querySelectorAll("button").forEach(function (b) {
        if (!b.disabled) { b.disabled = true; b.setAttribute("data-sent", ""); }
      });
      setTimeout(release, 15000);
    }, 0);
  });
  window.addEventListener("pageshow", release);
  // Self-scores are saved as they are typed (the form's own button does the same without JS).
  document.querySelectorAll("form[data-autosave]").forEach(function (form) {
    var timer = null;
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var status = form.querySelector("[data-saved]");
        var total = form.querySelector("[data-total]");
        // Url-encoded, like the form itself (its CSRF token checked the same way).
        fetch(form.getAttribute("data-autosave"), {
          method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin",
          headers: { "X-Requested-With": "fetch" }
        }).then(function (r) {
          // 200: all saved; 422: the valid ones saved, some refused. Both carry the new total.
          if (status) { status.textContent = r.status === 200 ? status.getAttribute("data-ok") : status.getAttribute("data-fail"); }
          if (total && (r.status === 200 || r.status === 422)) {
            r.text().then(function (t) { total.textContent = t; });
          }
        });
      }, 800);
    });
  });
})();
