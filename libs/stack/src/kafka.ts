import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { probeKafka } from '@email-core/kafka';
import { composeUp, dockerAvailable } from './docker';
import {
  commandExists,
  errorMessage,
  isPidAlive,
  pidCommandLine,
  run,
  tailFile,
  tcpAnswers,
  terminate,
  waitFor,
  type Log,
} from './process';
import { StackUnavailableError, type ServiceHealth, type ServiceUp } from './service';
import { STACK_DIR, readState, rel, updateState, type StackState } from './state';

const KAFKA_VERSION = '3.9.2';
const HOST = '127.0.0.1';
const PORT = 9092;
const CONTROLLER_PORT = 9093;
export const DEFAULT_KAFKA_BROKERS = [`${HOST}:${PORT}`];

const DIR = path.join(STACK_DIR, 'kafka');
const LIBS = path.join(DIR, 'libs');
const MARKER = path.join(LIBS, '.complete');
const DATA = path.join(DIR, 'data');
const LOG_FILE = path.join(DIR, 'kafka.log');
const PID_FILE = path.join(DIR, 'kafka.pid');
const PROPS = path.join(DIR, 'server.properties');
const LOG4J = path.join(DIR, 'log4j.properties');
const CLUSTER_ID_FILE = path.join(DIR, 'cluster-id');
const READY_TIMEOUT_MS = 90_000;

/** Number of brokers in the cluster; throws when no Kafka broker answers (the apps' health probe). */
async function describeCluster(brokers: string[]): Promise<number> {
  return (await probeKafka(brokers, 3000)).brokers;
}

function waitReady(brokers: string[], timeoutMs: number, abort?: () => string | undefined): Promise<number> {
  return waitFor(`Kafka at ${brokers.join(',')}`, () => describeCluster(brokers), {
    timeoutMs,
    intervalMs: 1000,
    abort,
  });
}

/** Pid of the broker this checkout started, if it is still that process. */
export function ownPid(state: StackState): number | undefined {
  const pid = state.kafka?.pid;
  if (!pid || !isPidAlive(pid)) return undefined;
  const cmd = pidCommandLine(pid);
  return cmd === '' || (cmd.includes('kafka.Kafka') && cmd.includes(PROPS)) ? pid : undefined;
}

function pomXml(): string {
  const dep = (g: string, a: string, v: string): string =>
    `    <dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`;
  return [
    '<project xmlns="http://maven.apache.org/POM/4.0.0">',
    '  <modelVersion>4.0.0</modelVersion>',
    '  <groupId>local.email-core</groupId><artifactId>kafka-runtime</artifactId><version>1</version><packaging>pom</packaging>',
    '  <dependencies>',
    dep('org.apache.kafka', 'kafka_2.13', KAFKA_VERSION),
    dep('org.slf4j', 'slf4j-reload4j', '1.7.36'),
    '  </dependencies>',
    '</project>',
    '',
  ].join('\n');
}

function jarsComplete(): boolean {
  try {
    return (
      fs.readFileSync(MARKER, 'utf8').trim() === KAFKA_VERSION &&
      fs.existsSync(path.join(LIBS, `kafka_2.13-${KAFKA_VERSION}.jar`))
    );
  } catch {
    return false;
  }
}

/** Downloads the broker's jars from Maven Central once into .stack/kafka/libs. */
async function ensureJars(log: Log): Promise<void> {
  if (jarsComplete()) return;
  if (!commandExists('mvn')) {
    throw new StackUnavailableError(
      'Kafka: nothing answers on 127.0.0.1:9092, no Docker engine, and Maven is missing to fetch the broker. ' +
        'Install Java 17 and Maven (apt-get install openjdk-17-jre-headless maven), start Docker, or set KAFKA_BROKERS.',
    );
  }
  log(
    `kafka: downloading Kafka ${KAFKA_VERSION} jars from Maven Central into ${rel(LIBS)} (first run only)...`,
  );
  const pom = path.join(DIR, 'pom.xml');
  const tmp = `${LIBS}.tmp`;
  fs.writeFileSync(pom, pomXml());
  fs.rmSync(tmp, { recursive: true, force: true });
  const started = Date.now();
  const r = await run(
    'mvn',
    [
      '-B',
      '-q',
      '-f',
      pom,
      'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies',
      `-DoutputDirectory=${tmp}`,
    ],
    { timeoutMs: 20 * 60_000, cwd: DIR },
  );
  if (r.code !== 0) {
    throw new Error(
      `kafka: Maven could not fetch the jars${r.timedOut ? ' (timed out)' : ''}:\n${(r.stdout + r.stderr).trim().slice(-3000)}`,
    );
  }
  fs.writeFileSync(path.join(tmp, '.complete'), `${KAFKA_VERSION}\n`);
  fs.rmSync(LIBS, { recursive: true, force: true });
  fs.renameSync(tmp, LIBS);
  log(
    `kafka: jars ready (${fs.readdirSync(LIBS).length - 1} files, ${Math.round((Date.now() - started) / 1000)} s)`,
  );
}

function clusterId(): string {
  try {
    const id = fs.readFileSync(CLUSTER_ID_FILE, 'utf8').trim();
    if (/^[A-Za-z0-9_-]{22}$/.test(id)) return id;
  } catch {
    /* generate below */
  }
  let id: string;
  do id = randomBytes(16).toString('base64url');
  while (!/^[A-Za-z0-9]/.test(id)); // a leading '-' would read as a CLI option
  fs.writeFileSync(CLUSTER_ID_FILE, `${id}\n`);
  return id;
}

function writeConfig(): void {
  const props = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@${HOST}:${CONTROLLER_PORT}`,
    listeners: `PLAINTEXT://${HOST}:${PORT},CONTROLLER://${HOST}:${CONTROLLER_PORT}`,
    'advertised.listeners': `PLAINTEXT://${HOST}:${PORT}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': DATA,
    'num.partitions': '6',
    'offsets.topic.replication.factor': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'group.initial.rebalance.delay.ms': '0',
    'log.retention.hours': '24',
  };
  const text = Object.entries(props).map(([k, v]) => `${k}=${v}`);
  fs.writeFileSync(PROPS, `# generated by libs/stack/src/kafka.ts\n${text.join('\n')}\n`);
  fs.writeFileSync(
    LOG4J,
    [
      'log4j.rootLogger=INFO, stdout',
      'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
      'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
      'log4j.logger.org.apache.kafka.clients=WARN',
      'log4j.logger.state.change.logger=WARN',
      '',
    ].join('\n'),
  );
}

const javaBase = (): string[] => ['-cp', `${LIBS}/*`, `-Dlog4j.configuration=file:${LOG4J}`];

async function formatStorage(log: Log): Promise<void> {
  if (fs.existsSync(path.join(DATA, 'meta.properties'))) return;
  log(`kafka: formatting storage in ${rel(DATA)}`);
  const r = await run(
    'java',
    [
      '-Xmx256m',
      ...javaBase(),
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId(),
      '-c',
      PROPS,
      '--ignore-formatted',
    ],
    {
      timeoutMs: 120_000,
      cwd: DIR,
    },
  );
  if (r.code !== 0)
    throw new Error(`kafka: storage format failed:\n${(r.stdout + r.stderr).trim().slice(-3000)}`);
}

/** Starts this checkout's own broker process (also how the fault suite brings it back after a SIGKILL). */
export async function startLocal(log: Log): Promise<ServiceUp<string[]>> {
  if (!commandExists('java')) {
    throw new StackUnavailableError(
      'Kafka: nothing answers on 127.0.0.1:9092 and no Docker engine. ' +
        'Install Java 17 and Maven (apt-get install openjdk-17-jre-headless maven), start Docker, or set KAFKA_BROKERS.',
    );
  }
  if (await tcpAnswers(HOST, CONTROLLER_PORT)) {
    throw new Error(
      `kafka: ${HOST}:${CONTROLLER_PORT} (the KRaft controller port) is in use by another process; free it or set KAFKA_BROKERS`,
    );
  }
  fs.mkdirSync(DIR, { recursive: true });
  await ensureJars(log);
  writeConfig();
  await formatStorage(log);

  fs.appendFileSync(
    LOG_FILE,
    `\n=== libs/stack: starting Kafka ${KAFKA_VERSION} at ${new Date().toISOString()} ===\n`,
  );
  const fd = fs.openSync(LOG_FILE, 'a');
  const child = spawn(
    'java',
    ['-Xms512m', '-Xmx512m', '-XX:+UseG1GC', '-Djava.awt.headless=true', ...javaBase(), 'kafka.Kafka', PROPS],
    {
      cwd: DIR,
      detached: true,
      stdio: ['ignore', fd, fd],
    },
  );
  fs.closeSync(fd);
  let spawnError: string | undefined;
  child.on('error', (err) => {
    spawnError = err.message;
  });
  child.unref();
  const pid = child.pid;
  if (!pid) throw new Error(`kafka: could not start java: ${spawnError ?? 'no pid'}`);
  fs.writeFileSync(PID_FILE, `${pid}\n`);
  updateState((s) => {
    s.kafka = { pid, logFile: LOG_FILE };
  });
  log(`kafka: started pid ${pid}, waiting for the broker (up to ${READY_TIMEOUT_MS / 1000} s)...`);

  try {
    await waitReady(
      DEFAULT_KAFKA_BROKERS,
      READY_TIMEOUT_MS,
      () => spawnError ?? (isPidAlive(pid) ? undefined : 'the Kafka process exited'),
    );
  } catch (err) {
    await terminate(pid, 10_000);
    updateState((s) => {
      delete s.kafka;
    });
    throw new Error(`${errorMessage(err)}\n--- tail of ${rel(LOG_FILE)} ---\n${tailFile(LOG_FILE, 40)}`);
  }
  return {
    endpoint: DEFAULT_KAFKA_BROKERS,
    source: 'local-started',
    detail: `pid ${pid}  (${rel(LOG_FILE)})`,
  };
}

export async function ensureKafka(log: Log): Promise<ServiceUp<string[]>> {
  const fromEnv = process.env.KAFKA_BROKERS;
  if (fromEnv) {
    const brokers = fromEnv
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    await waitReady(brokers, 60_000);
    return { endpoint: brokers, source: 'env', detail: 'from KAFKA_BROKERS' };
  }

  const state = readState();
  const pid = ownPid(state);
  if (pid) {
    // Ours: running, or still starting after an interrupted `up`.
    await waitReady(DEFAULT_KAFKA_BROKERS, READY_TIMEOUT_MS, () =>
      isPidAlive(pid) ? undefined : 'the Kafka process exited',
    );
    return {
      endpoint: DEFAULT_KAFKA_BROKERS,
      source: 'local-started',
      detail: `pid ${pid}  (${rel(LOG_FILE)})  reused`,
    };
  }
  if (state.kafka) {
    updateState((s) => {
      delete s.kafka;
    });
  }

  if (await tcpAnswers(HOST, PORT)) {
    try {
      await waitReady(DEFAULT_KAFKA_BROKERS, 15_000);
    } catch (err) {
      throw new Error(
        `kafka: ${HOST}:${PORT} is taken by something that does not answer as a Kafka broker (${errorMessage(err)})`,
      );
    }
    const docker = state.dockerComposeFiles?.some((f) => f.endsWith('docker-compose.kafka.yml'));
    return {
      endpoint: DEFAULT_KAFKA_BROKERS,
      source: docker ? 'docker' : 'local-existing',
      detail: 'reused (already running)',
    };
  }

  if (await dockerAvailable()) {
    log('kafka: starting docker-compose.kafka.yml');
    await composeUp('docker-compose.kafka.yml');
    await waitReady(DEFAULT_KAFKA_BROKERS, 120_000);
    return {
      endpoint: DEFAULT_KAFKA_BROKERS,
      source: 'docker',
      detail: 'docker compose -f docker-compose.kafka.yml (UI on 127.0.0.1:8080)',
    };
  }

  return startLocal(log);
}

export async function checkKafka(brokers: string[]): Promise<ServiceHealth> {
  try {
    const n = await describeCluster(brokers);
    return { healthy: n > 0, detail: `${n} broker${n === 1 ? '' : 's'}` };
  } catch (err) {
    return { healthy: false, detail: errorMessage(err) };
  }
}

/** Stops the broker only if this checkout started it. */
export async function stopKafka(state: StackState): Promise<string | undefined> {
  if (!state.kafka) return undefined;
  const pid = ownPid(state);
  fs.rmSync(PID_FILE, { force: true });
  if (!pid) return `kafka (pid ${state.kafka.pid} was already gone)`;
  const gone = await terminate(pid, 30_000);
  if (!gone) throw new Error(`kafka: pid ${pid} did not exit`);
  return `kafka pid ${pid}`;
}
