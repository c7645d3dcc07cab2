// Follow an analysis without reloading: queue position, then cell i of n and its section;
// reload once it has ended, to show the report and the downloads.
(function () {
  "use strict";
  var box = document.getElementById("suivi");
  if (!box) { return; }
  var state = box.getAttribute("data-etat");
  if (state === "done" || state === "failed" || state === "interrupted") { return; }
  var url = box.getAttribute("data-url");
  var etat = document.getElementById("etat");
  var detail = document.getElementById("detail");
  var barre = document.getElementById("barre");
  function show(data) {
    etat.textContent = data.libelle;
    etat.className = "etat etat-" + data.etat;
    if (data.etat === "queued") {
      detail.textContent = "Position dans la file d'attente : " + (data.position || "?");
    } else if (data.etat === "running") {
      var p = data.progression || {};
      if (p.cellule) {
        detail.textContent = "Cellule " + p.cellule + " sur " + p.cellules +
          (p.section ? " — " + p.section : "");
        barre.max = p.cellules; barre.value = p.cellule;
      } else {
        detail.textContent = "Préparation : lecture et vérification du fichier…";
      }
    }
  }
  function poll() {
    // the hub asks for the XSRF token on every request a script makes with the cookie
    var xsrf = document.body.getAttribute("data-xsrf");
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "X-XSRFToken": xsrf } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        show(data);
        if (data.termine) { window.location.reload(); return; }
        window.setTimeout(poll, 700);
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  }
  poll();
})();
