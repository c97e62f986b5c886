"use strict";
(function () {
  var data = GS.pageData();
  var form = document.getElementById("filing-form");
  if (form) {
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      var err = document.getElementById("filing-error");
      GS.show(err, "");
      var fd = new FormData(form);
      var body = { decision: fd.get("decision"), grounds: fd.getAll("grounds"),
        reasons: fd.get("reasons"), approved_by: fd.get("approved_by"),
        no_compensation_needed: fd.get("no_compensation_needed") === "true",
        override_checked: fd.get("override_checked") === "true" };
      if (fd.get("no_obvious_impact_criterion")) {
        body.no_obvious_impact_criterion = Number(fd.get("no_obvious_impact_criterion"));
      }
      if (fd.get("decided_on")) { body.decided_on = fd.get("decided_on"); }
      try {
        await GS.call("POST", "/api/v1/leads/" + data.id + "/filing", body);
        window.location.reload();
      } catch (e) { GS.show(err, e.message); }
    });
  }
  var again = document.getElementById("rescreen");
  if (again) {
    again.addEventListener("click", async function () {
      again.disabled = true;
      try { await GS.call("POST", "/api/v1/leads/" + data.id + "/rescreen", {}); window.location.reload(); }
      catch (e) {
        again.disabled = false;
        var p = document.getElementById("rescreen-error") || document.createElement("p");
        p.id = "rescreen-error"; p.className = "problem"; p.textContent = e.message;
        again.insertAdjacentElement("afterend", p);
      }
    });
  }
})();
