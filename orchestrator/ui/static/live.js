// Keeps a page current while a run writes. It polls /api/progress, which reads only the
// lock's side file (never the warehouse, so it never stands in a run's way): a run that
// starts shows its progress here, and when it ends the page reloads to show the result.
(function () {
  "use strict";
  const box = document.getElementById("live");
  if (!box) return;
  let watching = box.dataset.running === "1";
  const stale = box.dataset.stale === "1";
  const text = box.querySelector(".live-text");
  const bar = box.querySelector(".live-bar");
  const latest = box.querySelector(".live-latest");

  function show(run) {
    const who = run.user ? " by " + run.user : "";
    const failed = run.failed ? ", " + run.failed + " failed" : "";
    const since = run.started ? ", since " + run.started + " UTC" : "";
    const name = run.run_id ? "Run " + run.run_id : "A run";
    const doing = run.total
      ? "is writing: " + run.done + "/" + run.total + " tasks done" + failed
      : "is planning";
    text.textContent = name + " (orchestrator " + run.command + who + ") " + doing + since + ".";
    bar.max = run.total || 1;
    bar.value = run.done;
    latest.textContent = run.latest ? "Latest: " + run.latest + ". " : "";
    box.hidden = false;
  }

  async function tick() {
    let run = null;
    try {
      const answer = await fetch("/api/progress", { cache: "no-store" });
      run = (await answer.json()).running;
    } catch (err) {
      setTimeout(tick, 5000); // the server stopped or restarts: try again later, quietly
      return;
    }
    if (run) {
      show(run);
      watching = true;
    } else if (watching || stale) {
      // the run ended (or this page was read from the copy of the state before it)
      setTimeout(() => location.reload(), watching ? 0 : 4000);
      return;
    }
    setTimeout(tick, 1000); // the side file is cheap to read: once a second, run or not
  }
  setTimeout(tick, 1000);
})();
