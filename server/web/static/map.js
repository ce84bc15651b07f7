/* Visit map: reads /api/v1/visits.geojson for the current view and filters (the cookie session
 * authenticates), draws single visits coloured by outcome (flagged ones ringed in red) clustered by
 * Leaflet.markercluster, or the server's grid clusters when zoomed out; a click opens the visit's details.
 * Works without tiles (offline): the shipped boundaries (boundaries.js) are drawn beneath them. Every
 * visible string comes from the page's config (cfg.text, cfg.outcomes), in the reader's language. */
(function () {
  "use strict";

  var cfg = JSON.parse(document.getElementById("map-config").textContent);
  var OUTCOMES = ["enrolled", "interested", "follow_up", "refused", "not_home", "already_member"];
  var form = document.getElementById("filters");
  var summary = document.getElementById("summary");
  var loadError = document.getElementById("load-error");

  var T = cfg.text;
  var map = L.map("map", { minZoom: 3, maxZoom: 19, worldCopyJump: false }).setView([-2.5, 118], 5);
  window.JangkauBoundaries.addTo(map, cfg.boundaries);
  map.attributionControl.addAttribution(T.boundaries + " © Cahya DSN (MIT)");
  if (cfg.tileUrl) {
    var tiles = L.tileLayer(cfg.tileUrl, {
      maxZoom: 19,
      attribution: "&copy; OpenStreetMap contributors",
    });
    tiles.on("tileerror", function () {
      document.body.classList.add("tiles-offline");
    });
    tiles.addTo(map);
  }
  var points = L.markerClusterGroup({ showCoverageOnHover: false, chunkedLoading: false, maxClusterRadius: 40 });
  var cells = L.layerGroup();
  map.addLayer(points);
  map.addLayer(cells);

  var state = { map: map, loads: 0, last: null, params: null, coverageLoads: 0 };
  window.jangkauMap = state;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      node.setAttribute(key, attrs[key]);
    });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function dayStart(value) {
    return value ? new Date(value + "T00:00:00").getTime() : null;
  }

  function dayEnd(value) {
    return value ? new Date(value + "T23:59:59.999").getTime() : null;
  }

  function filterParams() {
    var data = new FormData(form);
    var params = new URLSearchParams();
    var from = dayStart(data.get("from"));
    var to = dayEnd(data.get("to"));
    if (from !== null) params.set("from", String(from));
    if (to !== null) params.set("to", String(to));
    ["agent_id", "outcome", "flag"].forEach(function (name) {
      if (data.get(name)) params.set(name, data.get(name));
    });
    return params;
  }

  function clamp(value, low, high) {
    return Math.max(low, Math.min(high, value));
  }

  function viewParams() {
    var params = filterParams();
    var b = map.getBounds();
    var west = clamp(b.getWest(), -180, 180);
    var east = clamp(b.getEast(), -180, 180);
    var south = clamp(b.getSouth(), -90, 90);
    var north = clamp(b.getNorth(), -90, 90);
    params.set("bbox", [west, south, east, north].map(function (v) { return v.toFixed(6); }).join(","));
    params.set("zoom", String(map.getZoom()));
    return params;
  }

  function api(path, options) {
    options = options || {};
    options.credentials = "same-origin";
    options.headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    return fetch(cfg.api + path, options).then(function (response) {
      if (response.status === 401) {
        window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
        throw new Error("session expired");
      }
      return response.json().then(function (body) {
        if (!response.ok) {
          var error = new Error(body.detail || body.title || "HTTP " + response.status);
          error.body = body;
          throw error;
        }
        return body;
      });
    });
  }

  function showError(error) {
    loadError.hidden = false;
    loadError.textContent = T.load_failed + ": " + error.message;
  }

  function visitIcon(props) {
    var outcome = OUTCOMES.indexOf(props.outcome) >= 0 ? props.outcome : "unknown";
    var flagged = (props.open_flags || props.flags || []).length > 0;
    return L.divIcon({
      className: "visit-marker outcome-" + outcome + (flagged ? " flagged" : ""),
      html: flagged ? "!" : "",
      iconSize: [14, 14],
    });
  }

  function cellIcon(props) {
    var size = Math.round(clamp(22 + 6 * Math.log10(props.count), 22, 54));
    var html = '<span class="cell-count" data-count="' + Number(props.count) + '">' + Number(props.count) + "</span>";
    return L.divIcon({
      className: "server-cluster" + (props.flagged > 0 ? " has-flags" : ""),
      html: html,
      iconSize: [size, size],
    });
  }

  function render(collection) {
    points.clearLayers();
    cells.clearLayers();
    var markers = [];
    collection.features.forEach(function (feature) {
      var c = feature.geometry.coordinates;
      var latlng = L.latLng(c[1], c[0]);
      var props = feature.properties;
      if (props.cluster) {
        var cell = L.marker(latlng, { icon: cellIcon(props), title: props.count + " " + T.visits });
        cell.on("click", function () {
          map.setView(latlng, Math.min(map.getZoom() + 2, map.getMaxZoom()));
        });
        cells.addLayer(cell);
      } else {
        var marker = L.marker(latlng, { icon: visitIcon(props), title: cfg.outcomes[props.outcome] || props.outcome || "" });
        marker.visitId = props.id;
        marker.bindPopup(el("div", { class: "visit-popup" }, T.loading), { maxWidth: 320 });
        marker.on("click", function () {
          openDetails(marker);
        });
        markers.push(marker);
      }
    });
    points.addLayers(markers);
    var text = collection.total + " " + T.visits;
    if (collection.clustered) text += " (" + T.grouped + ")";
    summary.textContent = text;
    summary.dataset.total = String(collection.total);
    summary.dataset.clustered = String(collection.clustered);
  }

  var pending = null;
  var sequence = 0;

  function load() {
    var params = viewParams();
    var mine = ++sequence;
    if (pending) pending.abort();
    pending = new AbortController();
    document.body.dataset.loading = "true";
    return api("/visits.geojson?" + params.toString(), { signal: pending.signal })
      .then(function (collection) {
        if (mine !== sequence) return;
        loadError.hidden = true;
        state.last = collection;
        state.params = params.toString();
        render(collection);
        state.loads += 1;
        document.body.dataset.loads = String(state.loads);
        document.body.dataset.loading = "false";
      })
      .catch(function (error) {
        if (error.name === "AbortError") return;
        document.body.dataset.loading = "false";
        showError(error);
      });
  }

  function loadCoverage() {
    return api("/visits/coverage?" + filterParams().toString())
      .then(function (body) {
        var tbody = document.querySelector("#coverage tbody");
        tbody.replaceChildren();
        body.items.forEach(function (item) {
          var row = el("tr", { "data-regency-code": item.regency_code || "" });
          var name = item.regency ? item.regency + (item.province ? ", " + item.province : "") : "(" + T.no_region + ")";
          row.appendChild(el("td", {}, name));
          row.appendChild(el("td", { class: "num" }, item.visits));
          row.appendChild(el("td", { class: "num" }, item.flagged));
          tbody.appendChild(row);
        });
        state.coverageLoads += 1;
        document.body.dataset.coverageLoads = String(state.coverageLoads);
      })
      .catch(showError);
  }

  function localTime(ms, zone) {
    if (ms === null || ms === undefined) return "—";
    try {
      return new Intl.DateTimeFormat(document.documentElement.lang === "en" ? "en-GB" : "id-ID", {
        dateStyle: "medium",
        timeStyle: "short",
        timeZone: zone || undefined,
      }).format(new Date(ms));
    } catch (e) {
      return new Date(ms).toISOString();
    }
  }

  function reviewForm(marker, visit, state) {
    var box = el("div", { class: "review" });
    var note = el("textarea", { rows: "2", placeholder: T.note, class: "review-note" });
    var dismiss = el("button", { type: "button", class: "review-dismiss" }, T.dismiss);
    var confirm = el("button", { type: "button", class: "review-confirm" }, T.confirm);
    function send(decision) {
      api("/visits/" + encodeURIComponent(visit.id) + "/flags/" + encodeURIComponent(state.flag) + "/review", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": cfg.csrfToken },
        body: JSON.stringify({ decision: decision, note: note.value }),
      })
        .then(function () {
          openDetails(marker);
        })
        .catch(function (error) {
          box.appendChild(el("p", { class: "error" }, error.message));
        });
    }
    dismiss.addEventListener("click", function () { send("dismiss"); });
    confirm.addEventListener("click", function () { send("confirm"); });
    box.appendChild(note);
    box.appendChild(dismiss);
    box.appendChild(confirm);
    return box;
  }

  function detailsNode(marker, visit) {
    var root = el("div", { class: "visit-popup", "data-visit-id": visit.id });
    root.appendChild(el("h3", {}, cfg.outcomes[visit.outcome] || visit.outcome || "—"));
    var dl = el("dl");
    function row(label, value) {
      dl.appendChild(el("dt", {}, label));
      dl.appendChild(el("dd", {}, value === null || value === undefined || value === "" ? "—" : value));
    }
    row(T.time, localTime(visit.visited_at, visit.timezone));
    row(T.zone, visit.timezone);
    var regency = visit.regency;
    if (regency && visit.location_match === "nearest") {
      regency += " (" + T.approximate + ", " + (visit.location_match_km || 0).toFixed(1) + " km)";
    }
    row(T.regency, regency);
    row(T.province, visit.province);
    row(T.agent, cfg.agents[visit.agent_id] || visit.agent_id);
    row(T.accuracy, visit.accuracy_m === null ? null : Math.round(visit.accuracy_m) + " m");
    row(
      T.from_branch,
      visit.distance_from_branch_km === null ? null : visit.distance_from_branch_km.toFixed(1) + " km"
    );
    root.appendChild(dl);
    if (visit.flag_states.length) {
      var list = el("ul", { class: "flags" });
      visit.flag_states.forEach(function (state) {
        var item = el("li", { class: "flag", "data-flag": state.flag });
        item.appendChild(el("strong", { title: state.flag }, (cfg.flags[state.flag] || state.flag) + " (" + state.flag + ")"));
        item.appendChild(document.createTextNode(" — " + state.reason + " "));
        item.appendChild(el("span", { class: "flag-status " + state.status }, T["status_" + state.status] || state.status));
        if (state.review) {
          var who = state.review.reviewed_by_username + ", " + localTime(state.review.reviewed_at);
          item.appendChild(el("div", { class: "muted" }, who + (state.review.note ? ": " + state.review.note : "")));
        }
        if (cfg.canReview && state.status === "open") item.appendChild(reviewForm(marker, visit, state));
        list.appendChild(item);
      });
      root.appendChild(list);
    } else {
      root.appendChild(el("p", { class: "muted no-flags" }, T.no_flags));
    }
    return root;
  }

  function openDetails(marker) {
    api("/visits/" + encodeURIComponent(marker.visitId))
      .then(function (visit) {
        var open = visit.flag_states
          .filter(function (s) { return s.status !== "dismissed"; })
          .map(function (s) { return s.flag; });
        marker.setIcon(visitIcon({ outcome: visit.outcome, open_flags: open }));
        marker.setPopupContent(detailsNode(marker, visit));
        if (!marker.isPopupOpen()) marker.openPopup();
      })
      .catch(function (error) {
        marker.setPopupContent(el("div", { class: "visit-popup error" }, error.message));
      });
  }

  var moveTimer = null;
  map.on("moveend", function () {
    clearTimeout(moveTimer);
    moveTimer = setTimeout(load, 150);
  });
  form.addEventListener("change", function () {
    load();
    loadCoverage();
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
  });

  load();
  loadCoverage();
})();
