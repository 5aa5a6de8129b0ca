/* The sources index: a table rendered client-side from assets/data/sources.json
   (16k rows would make a heavy HTML page), filterable, sortable, shown 200 at a time.
   Cells are filled with textContent, so names are never parsed as HTML. */
(function () {
  "use strict";
  var table = document.getElementById("sources-table");
  if (!table) { return; }
  var body = table.tBodies[0], root = table.getAttribute("data-root") || "";
  var count = document.getElementById("source-count"), more = document.getElementById("source-more");
  var fText = document.getElementById("f-text"), fKind = document.getElementById("f-kind");
  var fCountry = document.getElementById("f-country"), fObs = document.getElementById("f-observed");
  var rows = [], shown = [], limit = 200, sortKey = 5, asc = false;
  /* row: id, name, country (name), kind, fuel, emission_t_yr, lat, lon, n_overpasses, n_detections, ratio_mean, href,
     region (a US state, or ""), inventory */

  function num(v, digits) {
    if (v === null || v === undefined) { return "—"; }
    return digits ? Number(v).toFixed(digits) : Math.round(v).toLocaleString("en");
  }

  function cell(tr, text) {
    var td = document.createElement("td");
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  function render() {
    body.textContent = "";
    shown.slice(0, limit).forEach(function (r) {
      var tr = document.createElement("tr"), td = document.createElement("td");
      if (r[11]) {
        var a = document.createElement("a");
        a.href = root + r[11];
        a.textContent = r[1] || r[0];
        td.appendChild(a);
      } else {
        td.textContent = r[1] || r[0];
      }
      tr.appendChild(td);
      cell(tr, r[12] ? r[2] + " (" + r[12] + ")" : r[2]); cell(tr, (r[3] || "").replace("_", " ")); cell(tr, r[4]);
      cell(tr, num(r[5])); cell(tr, r[13] || ""); cell(tr, String(r[8])); cell(tr, String(r[9])); cell(tr, num(r[10], 2));
      body.appendChild(tr);
    });
    count.textContent = shown.length.toLocaleString("en") + " of " + rows.length.toLocaleString("en") +
      " sources" + (shown.length > limit ? ", first " + limit + " shown" : "");
    more.hidden = shown.length <= limit;
  }

  function compare(a, b) {
    var x = a[sortKey], y = b[sortKey];
    if (x === null || x === "") { return 1; }
    if (y === null || y === "") { return -1; }
    if (typeof x === "string") { x = x.toLowerCase(); y = String(y).toLowerCase(); }
    return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
  }

  function apply() {
    var q = fText.value.trim().toLowerCase(), k = fKind.value, c = fCountry.value, o = fObs.checked;
    shown = rows.filter(function (r) {
      return (!q || (r[1] + " " + r[0] + " " + r[2] + " " + (r[12] || "") + " " + (r[13] || "")).toLowerCase().indexOf(q) >= 0) &&
        (!k || r[3] === k) && (!c || r[2] === c) && (!o || r[11]);
    });
    shown.sort(compare);
    limit = 200;
    render();
  }

  Array.prototype.forEach.call(table.querySelectorAll("th button"), function (b) {
    b.addEventListener("click", function () {
      var key = parseInt(b.getAttribute("data-key"), 10);
      asc = key === sortKey ? !asc : key <= 4 || key === 12;
      sortKey = key;
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) { th.setAttribute("aria-sort", "none"); });
      b.parentNode.setAttribute("aria-sort", asc ? "ascending" : "descending");
      apply();
    });
  });
  [fText, fKind, fCountry, fObs].forEach(function (e) { e.addEventListener("input", apply); });
  document.getElementById("source-filters").addEventListener("submit", function (e) { e.preventDefault(); });
  more.addEventListener("click", function () { limit += 1000; render(); });
  fetch(table.getAttribute("data-src")).then(function (r) { return r.json(); }).then(function (data) {
    rows = data.rows;
    apply();
  });
})();
