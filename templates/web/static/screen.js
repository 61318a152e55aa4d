// The hall screen stays current without a reload: the server's event stream says that
// something changed (ids only) and the page fetches its changing part again. EventSource
// reconnects by itself after a network blip (the server sends `retry:`); the part is also
// fetched each time the check-in code turns over (about once a minute), after a reconnection,
// and again within seconds after a fetch that failed, so a missed change is caught up. A link
// that ends shows the "no longer valid" page.
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root || !window.fetch) { return; }
  var liveUrl = root.getAttribute("data-live");
  var eventsUrl = root.getAttribute("data-events");
  var busy = false, again = false, nextStamp = "", shownAt = Date.now(), timer = null, connected = false;

  function two(n) { return (n < 10 ? "0" : "") + n; }
  function clock(s) {
    var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), r = s % 60;
    return h > 0 ? h + ":" + two(m) + ":" + two(r) : two(m) + ":" + two(r);
  }
  // Countdowns (time left to a ballot's close, to the next code) from the part's own numbers.
  function tick() {
    var gone = Math.floor((Date.now() - shownAt) / 1000);
    root.querySelectorAll("[data-seconds]").forEach(function (el) {
      var left = Math.max(0, parseInt(el.getAttribute("data-seconds"), 10) - gone);
      el.textContent = el.hasAttribute("data-clock") ? clock(left) : String(left);
    });
  }
  // The next fetch without an event: when the code turns over (at most a minute); sooner, and
  // longer each time (2, 4, 8, 10 s), after a fetch that failed (the network dropped).
  var failures = 0;
  function schedule() {
    clearTimeout(timer);
    var code = root.querySelector("[data-code-seconds]");
    var wait = code ? parseInt(code.getAttribute("data-code-seconds"), 10) + 1 : 60;
    if (failures > 0) { wait = Math.min(wait, Math.min(10, Math.pow(2, failures))); }
    timer = setTimeout(function () { refresh(null); }, Math.max(1, Math.min(wait, 60)) * 1000);
  }
  // An event's stamp: the part fetched for it is rendered once for every screen asking.
  function stamped(event) {
    try {
      var v = JSON.parse(event.data).v;
      return typeof v === "string" && /^[0-9a-f]{1,32}$/.test(v) ? v : "";
    } catch (e) { return ""; }
  }
  function refresh(event) {
    var v = event && event.data ? stamped(event) : "";
    if (busy) { again = true; nextStamp = v; return; }
    busy = true;
    var url = v ? liveUrl + (liveUrl.indexOf("?") < 0 ? "?" : "&") + "v=" + v : liveUrl;
    fetch(url, { cache: "no-store", credentials: "omit" }).then(function (r) {
      if (r.status === 404 || r.status === 410) { window.location.reload(); return null; }
      if (!r.ok) { failures += 1; return null; }
      return r.text();
    }).then(function (html) {
      if (html !== null && html !== undefined) {
        root.innerHTML = html;
        shownAt = Date.now();
        failures = 0;
        tick();
      }
    }).catch(function () { failures += 1; /* the timer tries again, soon */ }).then(function () {
      busy = false;
      schedule();
      if (again) { again = false; refresh({ data: JSON.stringify({ v: nextStamp }) }); }
    });
  }
  setInterval(tick, 1000);
  schedule();
  if (window.EventSource && eventsUrl) {
    var source = new EventSource(eventsUrl);
    source.addEventListener("update", refresh);
    source.addEventListener("gone", function () { source.close(); window.location.reload(); });
    source.addEventListener("open", function () {
      if (connected) { refresh(null); }  // back after a blip: what changed meanwhile
      connected = true;
    });
  }
})();
