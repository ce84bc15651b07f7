/* The flagged visit's mini-map: the agent's visits that day in time order, joined by a line, the flagged
 * visit ringed, over the shipped boundaries (readable without tiles). Data comes from the page's config. */
(function () {
  "use strict";

  var cfg = JSON.parse(document.getElementById("map-config").textContent);
  var map = L.map("mini-map", { minZoom: 3, maxZoom: 19 });
  window.JangkauBoundaries.addTo(map, cfg.boundaries, { regencyZoom: 8 });
  map.attributionControl.addAttribution(cfg.text.boundaries + " © Cahya DSN (MIT)");
  if (cfg.tileUrl) L.tileLayer(cfg.tileUrl, { maxZoom: 19, attribution: "&copy; OpenStreetMap contributors" }).addTo(map);

  var latlngs = cfg.points.map(function (p) { return [p.lat, p.lon]; });
  if (latlngs.length > 1) L.polyline(latlngs, { color: "#0b5394", weight: 2, dashArray: "4 4" }).addTo(map);
  cfg.points.forEach(function (p, index) {
    var outcome = cfg.outcomes[p.outcome] ? p.outcome : "unknown";
    var icon = L.divIcon({
      className: "visit-marker outcome-" + outcome + (p.flagged ? " flagged" : "") + (p.current ? " current" : ""),
      html: String(index + 1),
      iconSize: p.current ? [22, 22] : [16, 16],
    });
    L.marker([p.lat, p.lon], { icon: icon, title: (index + 1) + ". " + p.title, zIndexOffset: p.current ? 1000 : 0 }).addTo(map);
  });
  if (latlngs.length) {
    map.fitBounds(L.latLngBounds(latlngs).pad(0.3), { maxZoom: 15 });
  } else {
    map.setView([-2.5, 118], 5);
  }
  document.body.dataset.miniMap = String(cfg.points.length);
})();
