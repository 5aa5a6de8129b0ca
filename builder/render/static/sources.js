/* The sources index: a table rendered client-side from assets/data/sources.json (read by
   Atlas.loadSources in atlas.js), filterable and sortable, shown one page of PAGE rows at a time,
   so every page costs the same however far the reader goes. The filters, the sort and the page
   are kept in the URL query, so a filtered view can be shared. Cells are filled with
   textContent: names are never parsed as HTML. */
(function () {
  "use strict";
  var table = document.getElementById("sources-table");
  if (!table) { return; }
  var PAGE = 100;
  var body = table.tBodies[0], root = table.getAttribute("data-root") || "";
  var count = document.getElementById("source-count");
  var prev = document.getElementById("page-prev"), next = document.getElementById("page-next");
  var pageInfo = document.getElementById("page-info"), pager = document.getElementById("source-pager");
  var f = {q: document.getElementById("f-text"), kind: document.getElementById("f-kind"),
           country: document.getElementById("f-country"), paged: document.getElementById("f-observed")};
  var rows = [], shown = [], page = 1, sortKey = "emission_t_yr", asc = false;
  var TEXT_KEYS = ["name", "country", "kind", "fuel", "inventory"];

  /* Lower case without accents, as the search index folds them: "Bełchatów" -> "belchatow". */
  var SPECIAL = {"ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe", "ı": "i"};
  function fold(s) {
    return s.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[łøđßæœı]/g, function (c) { return SPECIAL[c]; });
  }

  function num(v, digits) {
    if (v === null || v === undefined) { return "—"; }
    return digits ? Number(v).toFixed(digits) : Math.round(v).toLocaleString("en");
  }

  function cell(tr, text, title) {
    var td = document.createElement("td");
    td.textContent = text;
    if (title) { td.title = title; }
    tr.appendChild(td);
  }

  function row(r) {
    var tr = document.createElement("tr"), td = document.createElement("td");
    if (r.href) {
      var a = document.createElement("a");
      a.href = root + r.href;
      a.textContent = r.name || r.id;
      td.appendChild(a);
    } else {
      td.textContent = r.name || r.id;
    }
    tr.appendChild(td);
    cell(tr, r.region ? r.country + " (" + r.region + ")" : r.country);
    cell(tr, r.kind.replace("_", " ")); cell(tr, r.fuel); cell(tr, num(r.emission_t_yr)); cell(tr, r.inventory);
    cell(tr, String(r.n_overpasses)); cell(tr, String(r.n_detected));
    if (r.site_units > 1 && r.ratio !== null) {
      cell(tr, num(r.ratio, 2) + " (site of " + r.site_units + ")",
           "Compared with the inventory of all " + r.site_units + " catalogue units on this site");
    } else {
      cell(tr, num(r.ratio, 2));
    }
    return tr;
  }

  function pages() { return Math.max(1, Math.ceil(shown.length / PAGE)); }

  function render() {
    page = Math.min(Math.max(page, 1), pages());
    var frag = document.createDocumentFragment();
    shown.slice((page - 1) * PAGE, page * PAGE).forEach(function (r) { frag.appendChild(row(r)); });
    body.textContent = "";
    body.appendChild(frag);
    count.textContent = shown.length.toLocaleString("en") + " of " + rows.length.toLocaleString("en") + " sources" +
      (pages() > 1 ? ", page " + page + " of " + pages() : "");
    pageInfo.textContent = "Page " + page + " of " + pages();
    prev.disabled = page <= 1;
    next.disabled = page >= pages();
    pager.hidden = pages() <= 1;
    saveState();
  }

  function compare(a, b) {
    var x = a[sortKey], y = b[sortKey];
    if (x === null || x === "") { return y === null || y === "" ? 0 : 1; }
    if (y === null || y === "") { return -1; }
    if (typeof x === "string") { x = x.toLowerCase(); y = String(y).toLowerCase(); }
    return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
  }

  function apply(keepPage) {
    var q = fold(f.q.value.trim()), k = f.kind.value, c = f.country.value, o = f.paged.checked;
    shown = rows.filter(function (r) {
      return (!q || r.text.indexOf(q) >= 0) && (!k || r.kind === k) && (!c || r.country === c) && (!o || r.href);
    });
    shown.sort(compare);
    if (!keepPage) { page = 1; }
    render();
  }

  function showSort() {
    Array.prototype.forEach.call(table.querySelectorAll("th button"), function (b) {
      b.parentNode.setAttribute("aria-sort", b.getAttribute("data-key") !== sortKey ? "none" :
        asc ? "ascending" : "descending");
    });
  }

  /* The view in the URL query: ?q=&kind=&country=&paged=1&sort=KEY&dir=asc|desc&page=N */
  function saveState() {
    var p = new URLSearchParams();
    if (f.q.value.trim()) { p.set("q", f.q.value.trim()); }
    if (f.kind.value) { p.set("kind", f.kind.value); }
    if (f.country.value) { p.set("country", f.country.value); }
    if (f.paged.checked) { p.set("paged", "1"); }
    if (sortKey !== "emission_t_yr" || asc) { p.set("sort", sortKey); p.set("dir", asc ? "asc" : "desc"); }
    if (page > 1) { p.set("page", String(page)); }
    var query = p.toString();
    history.replaceState(null, "", location.pathname + (query ? "?" + query : "") + location.hash);
  }

  function loadState() {
    var p = new URLSearchParams(location.search);
    f.q.value = p.get("q") || "";
    [["kind", f.kind], ["country", f.country]].forEach(function (pair) {
      var v = p.get(pair[0]);
      if (v && Array.prototype.some.call(pair[1].options, function (o) { return o.value === v; })) { pair[1].value = v; }
    });
    f.paged.checked = p.get("paged") === "1";
    var key = p.get("sort");
    if (key && table.querySelector('th button[data-key="' + key + '"]')) {
      sortKey = key;
      asc = p.get("dir") === "asc";
    }
    page = parseInt(p.get("page") || "1", 10) || 1;
    showSort();
  }

  Array.prototype.forEach.call(table.querySelectorAll("th button"), function (b) {
    b.addEventListener("click", function () {
      var key = b.getAttribute("data-key");
      asc = key === sortKey ? !asc : TEXT_KEYS.indexOf(key) >= 0;
      sortKey = key;
      showSort();
      apply();
    });
  });
  [f.q, f.kind, f.country, f.paged].forEach(function (e) { e.addEventListener("input", function () { apply(); }); });
  document.getElementById("source-filters").addEventListener("submit", function (e) { e.preventDefault(); });
  prev.addEventListener("click", function () { page -= 1; render(); });
  next.addEventListener("click", function () { page += 1; render(); });
  window.Atlas.loadSources(table.getAttribute("data-src")).then(function (data) {
    rows = data;
    rows.forEach(function (r) {
      r.text = fold([r.name, r.id, r.country, r.region, r.inventory, r.fuel].join(" "));
    });
    loadState();
    apply(true);
  });
})();
