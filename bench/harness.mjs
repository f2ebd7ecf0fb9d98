// A small benchmark harness: every case runs in interleaved rounds (so drift hits all alike), each
// round a batch sized to ~25 ms; the median ns/op per case is reported with its ratio to the baseline.
const ROUND_MS = 25;

function calibrate(fn) {
  let iterations = 1;
  for (;;) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    if (elapsed > ROUND_MS / 4) return Math.max(1, Math.round((iterations * ROUND_MS) / elapsed));
    iterations *= 4;
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * @param {string} title
 * @param {{ name: string, fn: () => unknown, baseline?: boolean, async?: boolean }[]} cases
 * @param {{ rounds?: number }} options
 */
export async function compare(title, cases, { rounds = 15 } = {}) {
  const plans = cases.map((c) => ({ ...c, samples: [] }));
  for (const plan of plans) {
    for (let i = 0; i < 2000; i++) plan.fn(); // warm up the JIT
    plan.iterations = calibrate(plan.fn);
  }
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? plans : [...plans].reverse();
    for (const plan of order) {
      const { fn, iterations } = plan;
      const start = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) fn();
      plan.samples.push(Number(process.hrtime.bigint() - start) / iterations);
    }
  }
  const baseline = plans.find((plan) => plan.baseline) ?? plans[0];
  const baseNs = median(baseline.samples);
  const rows = plans.map((plan) => {
    const ns = median(plan.samples);
    return {
      case: plan.name,
      "ns/op": ns.toFixed(0),
      "ops/s": Math.round(1e9 / ns),
      ratio: (ns / baseNs).toFixed(2),
    };
  });
  console.log(`\n${title}  (ratio = time / ${baseline.name}; lower is faster)`);
  console.table(rows);
  return Object.fromEntries(plans.map((plan) => [plan.name, median(plan.samples) / baseNs]));
}

/**
 * Like `compare`, for async work: each round runs `batch` calls of every case, `concurrency` at a time.
 * @param {string} title
 * @param {{ name: string, fn: (i: number) => Promise<unknown>, baseline?: boolean }[]} cases
 * @param {{ rounds?: number, batch?: number, concurrency?: number }} options
 */
export async function compareAsync(title, cases, { rounds = 9, batch = 2000, concurrency = 16 } = {}) {
  const plans = cases.map((c) => ({ ...c, samples: [], calls: 0 }));
  const runBatch = async (plan, size) => {
    const start = process.hrtime.bigint();
    for (let done = 0; done < size; done += concurrency) {
      const wave = [];
      for (let i = 0; i < concurrency && done + i < size; i++) wave.push(plan.fn(plan.calls++));
      await Promise.all(wave);
    }
    return Number(process.hrtime.bigint() - start) / size;
  };
  for (const plan of plans) await runBatch(plan, batch); // warm up
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? plans : [...plans].reverse();
    for (const plan of order) plan.samples.push(await runBatch(plan, batch));
  }
  const baseline = plans.find((plan) => plan.baseline) ?? plans[0];
  const baseNs = median(baseline.samples);
  console.log(`\n${title}  (ratio = throughput / ${baseline.name}; higher is faster)`);
  console.table(
    plans.map((plan) => {
      const ns = median(plan.samples);
      return {
        case: plan.name,
        "µs/req": (ns / 1000).toFixed(1),
        "req/s": Math.round(1e9 / ns),
        ratio: (baseNs / ns).toFixed(2),
      };
    }),
  );
  return Object.fromEntries(plans.map((plan) => [plan.name, baseNs / median(plan.samples)]));
}
