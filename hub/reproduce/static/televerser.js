// Send the chosen file as the body of one request (the service writes it to disk as it
// arrives), with the XSRF token of the page; then go to the column mapping.
(function () {
  "use strict";
  var form = document.getElementById("televersement");
  var input = document.getElementById("fichier");
  var message = document.getElementById("message");
  var bar = document.getElementById("avancement");
  var xsrf = document.body.getAttribute("data-xsrf");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var file = input.files[0];
    if (!file) { message.textContent = "Choisissez un fichier."; return; }
    message.textContent = "";
    var max = parseInt(form.getAttribute("data-max"), 10);
    if (max && file.size > max) {
      message.textContent = "Fichier trop volumineux : la limite est de " +
        Math.round(max / 1048576) + " Mo. Réduisez la période ou le nombre de colonnes " +
        "(ou compressez le fichier en .csv.gz), puis recommencez.";
      return;
    }
    var request = new XMLHttpRequest();
    request.open("POST", form.getAttribute("data-url"));
    request.setRequestHeader("X-XSRFToken", xsrf);
    request.setRequestHeader("X-Nom-Fichier", encodeURIComponent(file.name));
    request.setRequestHeader("Content-Type", "application/octet-stream");
    bar.hidden = false;
    request.upload.onprogress = function (e) {
      if (e.lengthComputable) { bar.value = Math.round(100 * e.loaded / e.total); }
    };
    request.onload = function () {
      var data = {};
      try { data = JSON.parse(request.responseText); } catch (e) { data = {}; }
      if (request.status === 201 && data.suite) { window.location.assign(data.suite); return; }
      bar.hidden = true;
      message.textContent = data.erreur || ("Envoi refusé (erreur " + request.status + ").");
    };
    request.onerror = function () {
      bar.hidden = true;
      message.textContent = "L'envoi a échoué (connexion interrompue ou fichier trop volumineux).";
    };
    request.send(file);
  });
})();
