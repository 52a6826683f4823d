// CSV imports: the upload's progress bar (bytes sent), then the job's (rows checked or imported).
(function () {
  "use strict";
  const form = document.getElementById("import-form");
  if (form && window.XMLHttpRequest && window.FormData) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      const bar = document.getElementById("upload-progress");
      const said = document.getElementById("upload-said");
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action || location.href);
      xhr.upload.onprogress = function (e) {
        if (!e.lengthComputable) return;
        bar.hidden = false;
        bar.value = Math.round((100 * e.loaded) / e.total);
        said.textContent = "Uploading: " + bar.value + "%";
      };
      xhr.onload = function () {
        said.textContent = "Uploaded; checking…";
        if (xhr.responseURL && xhr.responseURL !== location.href) location.assign(xhr.responseURL);
        else { document.open(); document.write(xhr.responseText); document.close(); }
      };
      xhr.onerror = function () { said.textContent = "The upload failed: try again."; };
      xhr.send(new FormData(form));
    });
  }
  const bar = document.getElementById("job-progress");
  const main = document.getElementById("content-main");
  if (bar && bar.dataset.finished === "0") {
    const rows = document.getElementById("job-rows");
    const poll = function () {
      fetch(main.dataset.progressUrl, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (p) {
        bar.max = Math.max(p.total_rows, p.processed_rows, 1);
        bar.value = p.processed_rows;
        rows.textContent = p.processed_rows + " rows";
        document.getElementById("job-status").textContent = p.status_label;
        if (p.finished) location.reload();
        else setTimeout(poll, 500);
      }).catch(function () { setTimeout(poll, 2000); });
    };
    setTimeout(poll, 300);
  }
})();
