// Direct-to-storage uploads with a progress bar: reserve the asset (API), send the bytes where the API
// says (a presigned bucket POST, or the direct endpoint on local storage), confirm, open the asset.
(function () {
  "use strict";
  const form = document.getElementById("direct-upload");
  if (!form) return;
  const bar = document.getElementById("direct-progress");
  const said = document.getElementById("direct-said");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;

  function api(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body || {}),
    }).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) throw new Error((data.error && data.error.message) || "Refused (" + r.status + ")");
        return data;
      });
    });
  }

  function send(upload, file) {
    return new Promise(function (resolve, reject) {
      const data = new FormData();
      Object.keys(upload.fields || {}).forEach(function (k) { data.append(k, upload.fields[k]); });
      data.append(upload.file_field || "file", file);
      const xhr = new XMLHttpRequest();
      xhr.open(upload.method || "POST", upload.url);
      if (upload.url.charAt(0) === "/") xhr.setRequestHeader("X-CSRFToken", csrf); // our own endpoint
      xhr.withCredentials = upload.url.charAt(0) === "/";
      xhr.upload.onprogress = function (e) {
        if (!e.lengthComputable) return;
        bar.value = Math.round((100 * e.loaded) / e.total);
        said.textContent = "Uploading: " + bar.value + "%";
      };
      xhr.onload = function () { (xhr.status < 300 ? resolve : reject)(new Error("Storage answered " + xhr.status)); };
      xhr.onerror = function () { reject(new Error("The upload was cut off")); };
      xhr.send(data);
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const file = document.getElementById("direct-file").files[0];
    if (!file) return;
    bar.hidden = false;
    bar.value = 0;
    said.textContent = "Starting…";
    let asset = null;
    api(form.dataset.startUrl, {
      filename: file.name,
      content_type: file.type || "application/octet-stream",
      size_bytes: file.size,
      folder_path: form.folder_path.value,
    })
      .then(function (started) { asset = started.asset; return send(started.upload, file); })
      .then(function () { said.textContent = "Checking…"; return api("/api/v1/media/" + asset.id + "/confirm/"); })
      .then(function () {
        bar.value = 100;
        said.textContent = "Uploaded.";
        location.assign(form.dataset.assetUrl.replace("0", String(asset.id)));
      })
      .catch(function (error) {
        said.textContent = error.message + (asset ? " (the asset is kept as failed or pending)" : "");
      });
  });
})();
