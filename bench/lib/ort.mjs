// onnxruntime session options the CPU benchmarks share. Intra-op threads spin after a run by
// default: with sessions interleaved on 2 cores, the idle session's spinning threads take the cores
// from the running one (measured: fp32 66 ms and int8 24 to 37 ms interleaved, 41 and 13 ms alone).
// Without spinning both match their solo times.

export function cpuSessionOptions(threads, { spinning = false } = {}) {
  return {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: spinning ? '1' : '0' } } },
  };
}
