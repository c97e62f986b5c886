"use strict";
/* /layers: upload with the validation report, activate / roll back, compare versions on a map. */
(function () {
  var map = L.map("layers-map", { center: [44.5, 113.5], zoom: 4 });
  map.attributionControl.setPrefix(false);
  L.control.scale({ metric: true, imperial: false }).addTo(map);
  var shown = L.featureGroup().addTo(map);
  var errBox = document.getElementById("layers-error");

  function activeVersionOf(series) {
    var rows = document.querySelectorAll("tr.active .show-version");
    for (var i = 0; i < rows.length; i++) { if (rows[i].dataset.series === series) { return rows[i].dataset.version; } }
    return null;
  }
  function addVersion(gj, style) {
    var layer = L.geoJSON(gj, {
      style: style, pointToLayer: function (f, latlng) { return L.circleMarker(latlng, Object.assign({ radius: 5 }, style)); },
      onEachFeature: function (f, l) {
        var span = document.createElement("span");
        span.textContent = (f.properties && (f.properties.name || f.properties.code)) || "";
        if (span.textContent) { l.bindTooltip(span, { sticky: true }); }
      }
    });
    shown.addLayer(layer);
    return layer;
  }
  var CHANGE = { added: ["新增", "#1a9641"], gained: ["增加部分", "#1a9641"],
    removed: ["删除", "#d7191c"], lost: ["减少部分", "#d7191c"] };
  var info = document.getElementById("diff-info");
  function say(tag, text, cls) {
    var el = document.createElement(tag); el.textContent = text; if (cls) { el.className = cls; }
    info.appendChild(el); return el;
  }
  async function show(versionId, series) {
    info.dataset.chosen = "1";
    map.removeLayer(outlines);
    GS.show(errBox, "");
    shown.clearLayers();
    info.replaceChildren();
    try {
      var active = activeVersionOf(series);
      if (active && active !== versionId) {
        /* A version against the active one: what was added, removed, gained and lost. */
        var d = await GS.call("GET", "/api/v1/layers/diff?from=" + active + "&to=" + versionId + "&geometry=true");
        say("p", "与启用版本 #" + active + " 相比：新增 " + d.added.length + " 个、删除 " + d.removed.length +
          " 个、变化 " + d.changed.length + " 个要素；面积增加 " + d.area_gained_km2 + " km²，减少 " + d.area_lost_km2 + " km²。");
        var pieces = L.geoJSON(d.geojson, {
          style: function (f) { var c = (CHANGE[f.properties.change] || ["", "#2c7fb8"])[1]; return { color: c, weight: 2, fillColor: c, fillOpacity: 0.45 }; },
          onEachFeature: function (f, l) {
            var span = document.createElement("span");
            span.textContent = (CHANGE[f.properties.change] || [f.properties.change])[0] + "：" +
              (f.properties.name || f.properties.code || "") + "（" + f.properties.area_km2 + " km²）";
            l.bindTooltip(span, { sticky: true });
          }
        });
        shown.addLayer(pieces);
        if (pieces.getLayers().length) { map.fitBounds(pieces.getBounds(), { maxZoom: 12 }); }
        var old = await GS.call("GET", "/api/v1/layers/versions/" + active +
          "/features?limit=2000&simplify=0.002&bbox=" + map.getBounds().toBBoxString());
        addVersion(old, { color: "#777", weight: 1.5, dashArray: "5 4", fillOpacity: 0.03 }).bringToBack();
        var impactBtn = say("button", "评估启用后受影响的未结线索");
        impactBtn.type = "button"; impactBtn.className = "secondary";
        impactBtn.addEventListener("click", function () { impact(versionId); });
        return;
      }
      var gj = await GS.call("GET", "/api/v1/layers/versions/" + versionId + "/features?limit=2000&simplify=0.002");
      var layer = addVersion(gj, { color: "#d7191c", weight: 1.5, fillOpacity: 0.2 });
      say("p", "版本 #" + versionId + "：显示 " + gj.numberReturned + " 个要素（共 " + gj.numberMatched + " 个）。");
      if (layer.getLayers().length) { map.fitBounds(layer.getBounds(), { maxZoom: 12 }); }
    } catch (e) { GS.show(errBox, e.message); }
  }
  async function impact(versionId) {
    try {
      var r = await GS.call("GET", "/api/v1/layers/versions/" + versionId + "/impact");
      say("p", "检查未结线索 " + r.open_leads_checked + " 条，筛查结论将改变的 " + r.impacted_count + " 条：");
      var ul = say("ul", "");
      r.impacted.forEach(function (i) {
        var li = document.createElement("li");
        var a = document.createElement("a"); a.href = "/leads/" + encodeURIComponent(i.lead_id);
        a.textContent = "#" + i.lead_id + " " + (i.title || "");
        li.appendChild(a);
        li.appendChild(document.createTextNode("：" + i.changes.map(function (c) { return c.label; }).join("、")));
        ul.appendChild(li);
      });
    } catch (e) { GS.show(errBox, e.message); }
  }
  /* Until a version is chosen: every active layer's outline, so the panel is never empty.
     Drawn in its own group, without moving the map; choosing a version removes it. */
  var PALETTE = ["#6b6b6b", "#c00000", "#1a7f3c", "#d98c00", "#7a0177", "#2c7fb8", "#8c6d31", "#2166ac"];
  var outlines = L.featureGroup().addTo(map);
  async function overview() {
    var rows = document.querySelectorAll("tr.active .show-version");
    var n = 0;
    for (var i = 0; i < rows.length; i++) {
      try {
        var gj = await GS.call("GET", "/api/v1/layers/versions/" + rows[i].dataset.version + "/features?limit=2000&simplify=0.01");
        if (info.dataset.chosen) { return; }
        var c = PALETTE[i % PALETTE.length];
        outlines.addLayer(L.geoJSON(gj, { style: { color: c, weight: 1, fillOpacity: 0.04 }, interactive: false }));
        n += 1;
      } catch (e) { GS.show(errBox, e.message); }
    }
    if (info.dataset.chosen) { return; }
    info.replaceChildren();
    say("p", n ? "显示全部 " + n + " 个启用图层的轮廓；点击“在地图上查看”查看某一版本。" : "尚无启用的图层。").id = "overview-note";
    document.getElementById("layers-map").dataset.overview = String(n);
  }
  overview();
  document.querySelectorAll(".show-version").forEach(function (b) {
    b.addEventListener("click", function () { show(b.dataset.version, b.dataset.series); });
  });
  document.querySelectorAll(".activate").forEach(function (b) {
    b.addEventListener("click", async function () {
      b.disabled = true;
      var action = b.dataset.rollback ? "/rollback" : "/activate";
      try {
        await GS.call("POST", "/api/v1/layers/versions/" + b.dataset.version + action);
        await GS.call("POST", "/api/v1/layers/versions/" + b.dataset.version + "/rescreen-impacted");
        window.location.reload();
      }
      catch (e) { b.disabled = false; GS.show(errBox, e.message); }
    });
  });

  var form = document.getElementById("upload-form");
  if (form) {
    var report = document.getElementById("upload-report");
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      var fd = new FormData(form);
      Array.from(fd.keys()).forEach(function (k) { if (fd.get(k) === "") { fd.delete(k); } });
      report.hidden = false; report.replaceChildren();
      function line(tag, text, cls) { var el = document.createElement(tag); el.textContent = text; if (cls) { el.className = cls; } report.appendChild(el); return el; }
      line("p", "正在上传并校验……", "empty");
      try {
        var v = await GS.call("POST", "/api/v1/layers", fd, true);
        report.replaceChildren();
        line("h3", "校验报告：草稿版本 #" + v.id).id = "report-title";
        function count(x) { return Array.isArray(x) ? x.length : (x || 0); }
        line("p", "要素 " + v.feature_count + " 个；修复 " + count(v.repaired) + " 个；拒绝 " +
          count(v.rejected) + " 个；采用坐标系 " + (v.crs_used || "—"));
        (Array.isArray(v.repaired) ? v.repaired : []).slice(0, 50).forEach(function (r) {
          line("p", "第 " + r.index + " 个要素已修复：" + (r.reason || r.message || ""), "warning");
        });
        if (v.bbox) { line("p", "范围：" + v.bbox.join(", ")); }
        (v.warnings || []).forEach(function (w) { line("p", "⚠ " + (w.message || w), "warning"); });
        (Array.isArray(v.rejected) ? v.rejected : []).slice(0, 50).forEach(function (r) { line("p", "第 " + r.index + " 个要素被拒绝：" + r.reason, "problem"); });
        var act = line("button", "启用该版本");
        act.type = "button"; act.id = "activate-uploaded";
        act.addEventListener("click", async function () {
          try {
            await GS.call("POST", "/api/v1/layers/versions/" + v.id + "/activate");
            await GS.call("POST", "/api/v1/layers/versions/" + v.id + "/rescreen-impacted");
            window.location.reload();
          }
          catch (e) { line("p", e.message, "problem"); }
        });
        var look = line("button", "在地图上对比");
        look.type = "button"; look.className = "secondary"; look.id = "compare-uploaded";
        look.addEventListener("click", function () { show(String(v.id), fd.get("name") || fd.get("kind")); });
      } catch (e) { report.replaceChildren(); line("p", e.message, "problem"); }
    });
  }
})();
