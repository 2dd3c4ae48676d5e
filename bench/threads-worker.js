// The threaded half of the benchmark (bench.js with ?threads=N): the threads build of the module
// in a Worker (rayon's pool blocks while it waits, which a page's main thread may not), as
// js/worker.js runs it, on the same frame and models as the single-thread half.
self.onmessage = async ({ data: { threads, rgba, width, height, runs, models } }) => {
  try {
    const bytes = await Promise.all(models.map(async (m) => new Uint8Array(await (await fetch(`/pkg/models/${m}`)).arrayBuffer())));
    const wasm = await import('/pkg/threads/faceproof_wasm.js');
    await wasm.default({ module_or_path: '/pkg/threads/faceproof_wasm_bg.wasm' });
    await wasm.initThreadPool(threads);
    const engine = new wasm.FaceEngine();
    models.forEach((m, i) => engine.loadModel(m, bytes[i]));
    engine.embed(rgba, width, height, undefined); // warm-up, as the single-thread half's first embedding
    const stages = { detect: [], landmarks: [], align: [], embed: [], total: [] };
    for (let i = 0; i < runs; i++) {
      const a = performance.now();
      const r = engine.template(rgba, width, height, undefined);
      stages.total.push(performance.now() - a);
      for (const k of ['detect', 'landmarks', 'align', 'embed']) stages[k].push(r.times[k]);
    }
    self.postMessage({ ok: true, stages });
  } catch (e) {
    self.postMessage({ ok: false, error: String(e && e.stack || e) });
  }
};
