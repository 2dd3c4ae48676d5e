// The threaded half of the benchmark (bench.js with ?threads=N): the threads build of the module
// in a Worker (rayon's pool blocks while it waits, which a page's main thread may not), as
// js/worker.js runs it, on the same frame and models as the single-thread half.
// Started before the frame is ready (as js/worker.js is), it reports its cold start too: page
// navigation to the first embedding, on the page's clock (`pageOrigin` = its performance.timeOrigin).
// `pkg`: the threads build's directory (default /pkg/threads; bench/ab-threads.html passes others).
let frame;
const frameReady = new Promise((resolve) => { frame = resolve; });
self.onmessage = async ({ data }) => {
  if (data.rgba) return frame(data);
  const { threads, runs, models, pageOrigin, pkg = '/pkg/threads' } = data;
  const page = () => performance.timeOrigin + performance.now() - pageOrigin;
  try {
    const tStart = page();
    const fetching = Promise.all(models.map(async (m) => new Uint8Array(await (await fetch(`/pkg/models/${m}`)).arrayBuffer())));
    const wasm = await import(`${pkg}/faceproof_wasm.js`);
    await wasm.default({ module_or_path: `${pkg}/faceproof_wasm_bg.wasm` });
    const tWasm = page();
    await wasm.initThreadPool(threads);
    const tPool = page();
    const bytes = await fetching;
    const tFetch = page();
    const engine = new wasm.FaceEngine();
    models.forEach((m, i) => engine.loadModel(m, bytes[i]));
    const tLoad = page();
    const { rgba, width, height } = await frameReady;
    const tFrame = page();
    engine.embed(rgba, width, height, undefined); // the first embedding (and warm-up for the stages below)
    const tFirst = page();
    const coldStart = { workerMs: tStart, wasmMs: tWasm - tStart, poolMs: tPool - tWasm, fetchModelsMs: tFetch - tPool, loadModelsMs: tLoad - tFetch, frameWaitMs: tFrame - tLoad, firstEmbeddingMs: tFirst - tFrame, totalMs: tFirst };
    const stages = { detect: [], landmarks: [], align: [], embed: [], total: [] };
    for (let i = 0; i < runs; i++) {
      const a = performance.now();
      const r = engine.template(rgba, width, height, undefined);
      stages.total.push(performance.now() - a);
      for (const k of ['detect', 'landmarks', 'align', 'embed']) stages[k].push(r.times[k]);
    }
    self.postMessage({ ok: true, stages, coldStart });
  } catch (e) {
    self.postMessage({ ok: false, error: String(e && e.stack || e) });
  }
};
