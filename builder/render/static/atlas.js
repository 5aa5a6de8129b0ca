/* Small progressive enhancements: chart tooltips and sortable tables; the one reader of
   assets/data/sources.json (builder/render/datafiles.py), used by the Sources table and map popups. */
(function () {
  "use strict";
  /* sources.json -> one object per source; lookup columns hold an index into data.lookups. */
  var loading = {};
  function loadSources(url) {
    if (!loading[url]) {
      loading[url] = fetch(url).then(function (r) { return r.json(); }).then(function (data) {
        return data.rows.map(function (row) {
          var o = {};
          data.columns.forEach(function (c, j) {
            o[c] = data.lookups && data.lookups[c] ? data.lookups[c][row[j]] : row[j];
          });
          return o;
        });
      });
    }
    return loading[url];
  }
  window.Atlas = {loadSources: loadSources};

  /* "Cite this page": the address the reader sees and today's date (UTC). */
  Array.prototype.forEach.call(document.querySelectorAll("[data-cite-url]"), function (e) {
    e.textContent = location.origin + location.pathname;
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-cite-date]"), function (e) {
    e.textContent = new Date().toISOString().slice(0, 10);
  });

  /* Chart tooltips: an element with data-tip shows that text (or its SVG <title>) on hover and keyboard focus. */
  var tip = document.createElement("div");
  tip.className = "chart-tip";
  tip.setAttribute("role", "tooltip");
  tip.hidden = true;
  document.body.appendChild(tip);
  function show(e) {
    var t = e.target.closest && e.target.closest("[data-tip]");
    if (!t) { return; }
    var title = t.querySelector("title");
    tip.textContent = t.getAttribute("data-tip") || (title ? title.textContent : "");
    tip.hidden = false;
    var r = t.getBoundingClientRect();
    tip.style.left = Math.min(window.scrollX + r.left + r.width / 2, window.scrollX + document.documentElement.clientWidth - 260) + "px";
    tip.style.top = (window.scrollY + r.top - 8) + "px";
  }
  function hide(e) {
    if (e.target.closest && e.target.closest("[data-tip]")) { tip.hidden = true; }
  }
  document.addEventListener("mouseover", show);
  document.addEventListener("focusin", show);
  document.addEventListener("mouseout", hide);
  document.addEventListener("focusout", hide);

  /* Tables with class "sortable": click a heading to sort (numbers by data-value or text). */
  function cellValue(td) {
    var v = td.getAttribute("data-value");
    if (v === null) { v = td.textContent.trim(); }
    var n = parseFloat(v);
    return isNaN(n) || !/^[-+]?[0-9.]/.test(v) ? v.toLowerCase() : n;
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = th.textContent;
      th.textContent = "";
      th.appendChild(b);
      th.setAttribute("aria-sort", "none");
      b.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(table.tHead.rows[0].cells, function (o) { o.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b2) {
          var x = cellValue(a.cells[i]), y = cellValue(b2.cells[i]);
          return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
