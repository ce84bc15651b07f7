/* The shipped province and regency boundaries (sync/data, MIT) as the map's base layer, drawn in a pane
 * beneath the tiles: where the tile server cannot be reached the map still shows land, provinces and
 * (zoomed in) regencies instead of a grey screen. Regencies load the first time they are needed. */
(function () {
  "use strict";

  var loads = {};

  function load(url) {
    if (!loads[url]) {
      loads[url] = fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      });
    }
    return loads[url];
  }

  function addTo(map, urls, options) {
    options = options || {};
    var regencyZoom = options.regencyZoom === undefined ? 8 : options.regencyZoom;
    var pane = map.createPane("boundaries");
    pane.style.zIndex = "150"; // under the tiles (200): tiles that load cover it
    var provinces = L.geoJSON(null, {
      pane: "boundaries",
      interactive: false,
      style: { color: "#6b7b8a", weight: 1.2, fillColor: "#f3efe2", fillOpacity: 1 },
    }).addTo(map);
    var regencies = L.geoJSON(null, {
      pane: "boundaries",
      interactive: false,
      style: { color: "#a3afba", weight: 0.7, fill: false },
    });
    var regenciesRequested = false;

    function mark(name) {
      document.body.dataset[name] = "loaded";
    }

    function showRegencies() {
      if (map.getZoom() < regencyZoom) {
        map.removeLayer(regencies);
        return;
      }
      regencies.addTo(map);
      if (regenciesRequested) return;
      regenciesRequested = true;
      load(urls.regencies)
        .then(function (data) {
          regencies.addData(data);
          mark("regencies");
        })
        .catch(function () {
          regenciesRequested = false;
        });
    }

    load(urls.provinces)
      .then(function (data) {
        provinces.addData(data);
        mark("provinces");
      })
      .catch(function () {
        document.body.dataset.provinces = "failed";
      });
    map.on("zoomend", showRegencies);
    showRegencies();
    return { provinces: provinces, regencies: regencies };
  }

  window.JangkauBoundaries = { addTo: addTo };
})();
