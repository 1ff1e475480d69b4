// Shapes shared by the runner, the scenarios and the report.

/** One measured autocannon run. */
export interface RunStats {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** Responses received (any status). */
  total: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationSeconds: number;
  /** CPU used by the server process (all threads) as a percentage of one core, if known. */
  serverCpuPercent?: number;
  /** CPU used by the runner (the load generator) as a percentage of one core. */
  loadgenCpuPercent: number;
  /** Busy percentage of every core during the run (/proc/stat). */
  coreBusyPercent: number[];
  /** Busy time on the server core not used by the server: other processes (or steal). */
  otherServerCorePercent?: number;
  /** Busy time on the load-generator core not used by the runner. */
  otherLoadgenCorePercent: number;
}

/** The discarded warm-up: slices run until the rate settles. */
export interface Warmup {
  seconds: number;
  /** req/s of each slice, in order. */
  sliceRates: number[];
  non2xx: number;
  errors: number;
  /** The rate settled (last two slices within the tolerance) before the time limit. */
  settled: boolean;
}

/** A scenario: warm-up discarded, several measured runs, the median run picked by req/s. */
export interface ScenarioResult {
  id: string;
  title: string;
  runs: RunStats[];
  warmup: Warmup;
  medianReqPerSec: number;
  /** Latencies of the run whose req/s is the median. */
  p50Ms: number;
  p99Ms: number;
  non2xxTotal: number;
  errorsTotal: number;
  /** Free-form facts checked during the scenario (e.g. cache hits), shown in the report. */
  notes: string[];
  /** Resident memory of the server right after start-up and one probe request (/proc/<pid>/status). */
  serverRssAfterStartBytes?: number;
}

/** Raw signature-verification rates on core 0 (ops/s). */
export interface VerifyRates {
  seconds: number;
  nodeCryptoEs256: number;
  joseEs256Sequential: number;
  joseEs256Concurrent32: number;
  nodeCryptoEdDsa: number;
  /** Share of one core the measuring process got per method (about 100% when the core was its own). */
  cpuPercent: Record<string, number>;
}

/** Event-loop delay and throughput during the concurrent-login burst. */
export interface LoginBurst {
  concurrency: number;
  durationSeconds: number;
  loginsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  total: number;
  non2xx: number;
  errors: number;
  serverCpuPercent?: number;
  otherServerCorePercent?: number;
  eventLoopP50Seconds?: number;
  eventLoopP99Seconds?: number;
  eventLoopMaxSeconds?: number;
  eventLoopMeanSeconds?: number;
  monitoringResolutionMs: number;
  /** Other processes took a noticeable share of a bench core during the burst. */
  contended: boolean;
}

/** Readings of the idle Portcullis process (after start-up and a few requests) and after the bench. */
export interface Idle {
  rssBytes?: number;
  /** V8 heap in use and external memory (ArrayBuffers, WebAssembly memory) at the same moment. */
  heapUsedBytes?: number;
  externalBytes?: number;
  afterBenchRssBytes?: number;
  /** Event-loop delay over the idle period: the baseline the login-burst figures compare with. */
  eventLoopP50Seconds?: number;
  eventLoopP99Seconds?: number;
}

/** The machine and software the numbers came from. */
export interface MachineInfo {
  date: string;
  node: string;
  cpuModel: string;
  cores: number;
  kernel: string;
  memTotalBytes: number;
  runnerCpus: string;
  gitCommit: string;
  packages: Record<string, string>;
}

/** The bench settings (cores, load shape, durations). */
export interface Settings {
  serverCore: number;
  loadgenCore: number;
  connections: number;
  pipelining: number;
  /** Warm-up: first slice length; then 1 s slices until two in a row differ by less than warmupSettlePercent, up to maxWarmupSeconds. */
  warmupSeconds: number;
  maxWarmupSeconds: number;
  warmupSettlePercent: number;
  runSeconds: number;
  runs: number;
  /** Pause between measured runs, so one run's stragglers do not land in the next. */
  pauseMs: number;
  verifySeconds: number;
  loginConcurrency: number;
  loginWarmupSeconds: number;
  loginSeconds: number;
  idleSeconds: number;
  /** Before starting, wait up to this long for every core to be under quietBusyPercent busy. */
  quietWaitSeconds: number;
  quietBusyPercent: number;
  /** The same wait, shorter, before each scenario. */
  scenarioQuietWaitSeconds: number;
  /** A run during which other processes took a bench core is redone, at most this many times per scenario. */
  maxContendedRetries: number;
}

/** The settings plus what the run derived (token minting). */
export interface Method extends Settings {
  mintedTokens?: number;
  mintSeconds?: number;
}

/** One round of the alternating comparison: bare Fastify, then cached whoami, seconds apart. */
export interface PairedRound {
  bareReqPerSec: number;
  portcullisReqPerSec: number;
  /** portcullisReqPerSec / bareReqPerSec. */
  ratio: number;
  bareLoadgenCpuPercent: number;
  /** Server CPU µs per request in each run, when the CPU was read. */
  bareCpuMicroseconds?: number;
  portcullisCpuMicroseconds?: number;
  /** Non-2xx responses and errors of both runs. */
  non2xx: number;
}

/** Cached whoami vs bare Fastify in alternating short runs on the same core. */
export interface PairedComparison {
  warmupSeconds: number;
  roundSeconds: number;
  rounds: PairedRound[];
  /** Median of the rounds' rate ratios. */
  medianRatio: number;
  /** Median of the rounds' bare/whoami server CPU per request: the share of bare's rate the core could serve flat out. */
  medianCostRatio?: number;
}

/** Everything one bench run produced; written as JSON next to the Markdown report. */
export interface BenchResults {
  machine: MachineInfo;
  method: Method;
  scenarios: ScenarioResult[];
  verify?: VerifyRates;
  loginBurst?: LoginBurst;
  paired?: PairedComparison;
  idle: Idle;
  targets: TargetCheck[];
  /** How busy the machine was before the bench began, and whether it waited for quiet. */
  startQuiet: { quiet: boolean; waitedSeconds: number; busy: number[] };
  loadAverageStart: number[];
  loadAverageEnd: number[];
  errors: string[];
  elapsedSeconds: number;
}

/** One target from the brief, evaluated. */
export interface TargetCheck {
  name: string;
  measured: string;
  /** undefined when a number it needs is missing. */
  pass: boolean | undefined;
  /** A scenario it relies on had non-2xx responses or errors. */
  suspect: boolean;
}
