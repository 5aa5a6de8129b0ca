/* Pagefind search UI; a ?q= query (from the header search box) starts a search. */
(function () {
  "use strict";
  var box = document.getElementById("search");
  if (!box || typeof PagefindUI === "undefined") { return; }
  var ui = new PagefindUI({element: "#search", bundlePath: box.getAttribute("data-bundle"),
    showSubResults: false, showImages: false, resetStyles: false});
  /* the Pagefind input is labelled only by its title: give it an accessible name */
  var input = box.querySelector("input");
  if (input) { input.setAttribute("aria-label", "Search sources, countries, detections and pages"); }
  var q = new URLSearchParams(window.location.search).get("q");
  if (q) { ui.triggerSearch(q); }
})();
