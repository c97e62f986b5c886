"use strict";
// The case page's event form (issue 11): POST /api/v1/leads/{id}/events, then reload.
(function () {
  var data = GS.pageData();
  var form = document.getElementById("event-form");
  if (!form) { return; }
  form.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    var err = document.getElementById("event-error");
    GS.show(err, "");
    var fd = new FormData(form);
    var body = { type: fd.get("type"), on: fd.get("on") };
    ["note", "supervisor", "reason"].forEach(function (k) { if (fd.get(k)) { body[k] = fd.get(k); } });
    ["item", "report_interval_days", "voids"].forEach(function (k) {
      if (fd.get(k)) { body[k] = Number(fd.get(k)); }
    });
    if (fd.get("accepts")) { body.accepts = fd.get("accepts") === "true"; }
    try {
      await GS.call("POST", "/api/v1/leads/" + data.id + "/events", body);
      window.location.reload();
    } catch (e) { GS.show(err, e.message); }
  });
})();
