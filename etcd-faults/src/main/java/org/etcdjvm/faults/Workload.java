package org.etcdjvm.faults;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.etcdjvm.faults.check.LocalRead;
import org.etcdjvm.faults.check.Op;

/**
 * The clients. Every operation is recorded with its call and return times and its outcome.
 * <ul>
 *   <li><b>register clients</b> ({@code clients} threads): read / set / compare-and-set / create /
 *       delete on a few keys under {@value #LIN}, each sent to a random member (redirects
 *       followed). A key is retired, and a fresh one takes its place, after {@code maxOpsPerKey}
 *       operations or {@code maxUnknownPerKey} writes of unknown outcome, so that each key's
 *       history stays small enough to check for linearizability in milliseconds;
 *   <li><b>once writer</b>: sets of keys under {@value #ONCE}, each written once: every acknowledged
 *       one must be there at the end;
 *   <li><b>TTL writer</b>: keys under {@value #TTL} set once with a TTL of 1-2 s, for the expiry checks;
 *   <li><b>local reader</b>: plain GET listings of {@value #LIN} from random members, for the
 *       per-member monotonicity and log-prefix checks.
 * </ul>
 * Values are unique in the run, so every event in the log names the write it came from.
 */
final class Workload {
  static final String ROOT = "/fz";
  static final String LIN = ROOT + "/lin";
  static final String ONCE = ROOT + "/once";
  static final String TTL = ROOT + "/ttl";
  /** No key ever holds this value: a compare against it always fails and names the current value. */
  static final String PROBE = "~probe~";
  static final Duration OP_TIMEOUT = Duration.ofSeconds(3);
  private static final int ONCE_PROCESS = 100;
  private static final int TTL_PROCESS = 101;
  private static final int FINAL_PROCESS = 99;

  final List<Op> ops = Collections.synchronizedList(new ArrayList<>());
  final List<LocalRead> localReads = Collections.synchronizedList(new ArrayList<>());
  final Keys keys;
  private final Cluster cluster;
  private final ReadMode reads;
  private final long seed;
  private final int clients;
  private final Http http = new Http("clients");
  private final AtomicInteger ids = new AtomicInteger();
  private final AtomicBoolean stop = new AtomicBoolean();
  private final AtomicBoolean stopTtl = new AtomicBoolean();
  private final AtomicReference<String> leaderHint = new AtomicReference<>();
  private final List<Thread> threads = new ArrayList<>();
  private volatile long latestExpiration;

  Workload(Cluster cluster, ReadMode reads, long seed, int clients, int activeKeys, int maxOpsPerKey,
      int maxUnknownPerKey) {
    this.cluster = cluster;
    this.reads = reads;
    this.seed = seed;
    this.clients = clients;
    this.keys = new Keys(activeKeys, maxOpsPerKey, maxUnknownPerKey);
  }

  void start() {
    for (int p = 0; p < clients; p++) {
      int process = p;
      threads.add(thread("client-" + p, () -> registerClient(process)));
    }
    threads.add(thread("once-writer", this::onceWriter));
    threads.add(thread("ttl-writer", this::ttlWriter));
    threads.add(thread("local-reader", this::localReader));
    threads.forEach(Thread::start);
  }

  private static Thread thread(String name, Runnable body) {
    Thread t = new Thread(body, "faults-" + name);
    t.setDaemon(true);
    return t;
  }

  /** Stops new TTL keys (their expiries must be over before the final checks). */
  void stopTtl() {
    stopTtl.set(true);
  }

  /** Stops every client and waits for their last operations (each ends within its timeout). */
  void stop() throws InterruptedException {
    stop.set(true);
    stopTtl.set(true);
    for (Thread t : threads) {
      t.join(OP_TIMEOUT.toMillis() * 4);
    }
  }

  void close() {
    http.close();
  }

  /**
   * After healing: one more linearizable read of {@code key}, retried until it answers (up to
   * {@code timeout}), recorded like any other; null if none answered.
   */
  Op finalRead(String key, Duration timeout) throws InterruptedException {
    Random rnd = new Random(key.hashCode());
    long deadline = System.nanoTime() + timeout.toNanos();
    do {
      Op op = read(FINAL_PROCESS, key, rnd);
      if (op.outcome() == Op.Outcome.OK) {
        return op;
      }
      ops.remove(op);
      Thread.sleep(100);
    } while (System.nanoTime() < deadline);
    return null;
  }

  /** The latest expiration any TTL write was acknowledged with (epoch ms), or 0. */
  long latestExpiration() {
    return latestExpiration;
  }

  List<Op> ops() {
    synchronized (ops) {
      return new ArrayList<>(ops);
    }
  }

  // ------------------------------------------------------------------------------ register

  private void registerClient(int process) {
    Random rnd = new Random(seed * 1_000_003L + process);
    int seq = 0;
    while (!stop.get()) {
      String key = keys.pick(rnd);
      double r = rnd.nextDouble();
      Op op;
      if (r < 0.35) {
        op = read(process, key, rnd);
      } else if (r < 0.55) {
        op = write(process, Op.Kind.WRITE, key, "v" + process + "." + seq++, null, rnd);
      } else if (r < 0.85) {
        String expect = rnd.nextDouble() < 0.8 ? keys.lastValue(key) : keys.someValue(key, rnd);
        op = expect == null
            ? write(process, Op.Kind.CREATE, key, "v" + process + "." + seq++, null, rnd)
            : write(process, Op.Kind.CAS, key, "v" + process + "." + seq++, expect, rnd);
      } else if (r < 0.92) {
        op = write(process, Op.Kind.CREATE, key, "v" + process + "." + seq++, null, rnd);
      } else {
        op = write(process, Op.Kind.DELETE, key, null, null, rnd);
      }
      keys.done(key, op);
      pace(rnd, op.outcome() == Op.Outcome.FAIL ? 60 : 25);
    }
  }

  private void pace(Random rnd, int maxMillis) {
    try {
      Thread.sleep(rnd.nextInt(maxMillis + 1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stop.set(true);
    }
  }

  private NodeProcess randomMember(Random rnd) {
    List<NodeProcess> m = cluster.memberNodes();
    return m.get(rnd.nextInt(m.size()));
  }

  private Op begin(int process, Op.Kind kind, String key, String value, String expect, String node) {
    Op op = new Op(ids.incrementAndGet(), process, kind, key, value, expect, System.nanoTime(), node);
    ops.add(op);
    return op;
  }

  private Op read(int process, String key, Random rnd) {
    switch (reads) {
      case CONSISTENT -> {
        NodeProcess n = randomMember(rnd);
        Op op = begin(process, Op.Kind.READ, key, null, null, n.name);
        Http.Reply r = http.send("GET", n.clientUrl() + "/v1/keys" + key + "?consistent=true", null, OP_TIMEOUT, 3);
        return readResult(op, r);
      }
      case LEADER -> {
        String url = leaderHint.get();
        NodeProcess n = randomMember(rnd);
        if (url == null) {
          url = n.clientUrl();
        }
        Op op = begin(process, Op.Kind.READ, key, null, null, url.replace("http://", ""));
        Http.Reply r = http.send("GET", url + "/v1/keys" + key, null, OP_TIMEOUT, 0);
        return readResult(op, r);
      }
      case LOG -> {
        NodeProcess n = randomMember(rnd);
        Op op = begin(process, Op.Kind.READ, key, null, null, n.name);
        Http.Reply r = http.send("POST", n.clientUrl() + "/v1/keys" + key,
            Http.form("prevValue", PROBE, "value", PROBE), OP_TIMEOUT, 3);
        if (r.isOk()) {
          // the probe matched: impossible unless the compare is broken; record what happened as
          // the write it was, which no linearization can explain
          ops.remove(op);
          Op w = begin(process, Op.Kind.CAS, key, PROBE, PROBE, n.name);
          return w.complete(System.nanoTime(), Op.Outcome.OK, index(r), "probe compare matched");
        }
        int code = r.errorCode();
        if (code == 101) {
          String current = currentFrom(r.errorCause(), PROBE);
          if (current != null) {
            keys.saw(key, current);
            return op.complete(System.nanoTime(), Op.Outcome.OK, -1, null).observe(current);
          }
        } else if (code == 100) {
          keys.saw(key, null);
          return op.complete(System.nanoTime(), Op.Outcome.OK, -1, null).observe(null);
        }
        return op.complete(System.nanoTime(), Op.Outcome.FAIL, -1, r.describe());
      }
      default -> throw new IllegalStateException("read mode " + reads);
    }
  }

  private Op readResult(Op op, Http.Reply r) {
    long now = System.nanoTime();
    if (r.isOk()) {
      Map<String, Object> m = Json.object(r.body());
      if (m != null && m.get("value") instanceof String v) {
        keys.saw(op.key, v);
        return op.complete(now, Op.Outcome.OK, -1, null).observe(v);
      }
      return op.complete(now, Op.Outcome.FAIL, -1, "unreadable: " + r.describe());
    }
    if (r.errorCode() == 100) {
      keys.saw(op.key, null);
      return op.complete(now, Op.Outcome.OK, -1, null).observe(null);
    }
    // a read that did not answer changed nothing: leave it out (FAIL without observation)
    return op.complete(now, Op.Outcome.FAIL, -1, r.describe());
  }

  private Op write(int process, Op.Kind kind, String key, String value, String expect, Random rnd) {
    NodeProcess n = randomMember(rnd);
    Op op = begin(process, kind, key, value, expect, n.name);
    String url = n.clientUrl() + "/v1/keys" + key;
    Http.Reply r = switch (kind) {
      case WRITE, ONCE -> http.send("POST", url, Http.form("value", value), OP_TIMEOUT, 3);
      case CAS -> http.send("POST", url, Http.form("prevValue", expect, "value", value), OP_TIMEOUT, 3);
      case CREATE -> http.send("POST", url, Http.form("prevValue", "", "value", value), OP_TIMEOUT, 3);
      case DELETE -> http.send("DELETE", url, null, OP_TIMEOUT, 3);
      default -> throw new IllegalArgumentException(kind.name());
    };
    return writeResult(op, r);
  }

  private Op writeResult(Op op, Http.Reply r) {
    long now = System.nanoTime();
    Op.Outcome outcome = classify(r);
    if (outcome == Op.Outcome.OK) {
      leaderHint.set(r.url().substring(0, r.url().indexOf("/v1/")));
      op.complete(now, outcome, index(r), null);
      Map<String, Object> m = Json.object(r.body());
      if (m != null) {
        if (m.get("prevValue") instanceof String prev) {
          op.observe(prev);
        } else if (Boolean.TRUE.equals(m.get("newKey"))) {
          op.observe(null);
        }
        if (m.get("expiration") instanceof String exp) {
          op.expiration(normalizeExpiration(exp));
        }
      }
      keys.saw(op.key, op.kind == Op.Kind.DELETE ? null : op.value);
      return op;
    }
    op.complete(now, outcome, -1, r.describe());
    if (outcome == Op.Outcome.FAIL) {
      int code = r.errorCode();
      if (code == 101 && (op.kind == Op.Kind.CAS || op.kind == Op.Kind.CREATE)) {
        String current = currentFrom(r.errorCause(), op.kind == Op.Kind.CAS ? op.expect : "");
        if (current != null) {
          op.observe(current);
          keys.saw(op.key, current);
        }
      } else if (code == 100 && (op.kind == Op.Kind.CAS || op.kind == Op.Kind.DELETE)) {
        op.observe(null);
        keys.saw(op.key, null);
      }
    }
    return op;
  }

  /**
   * The write's fate from its reply: OK on 200; FAIL when nothing was sent, on a redirect not
   * followed, on "no leader" and on the store's refusals (1xx, 2xx, 4xx codes); UNKNOWN for
   * timeouts, broken connections, and every other 3xx or non-JSON error.
   */
  static Op.Outcome classify(Http.Reply r) {
    if (r.failure() == Http.Failure.NOT_SENT) {
      return Op.Outcome.FAIL;
    }
    if (r.failure() == Http.Failure.NO_ANSWER) {
      return Op.Outcome.UNKNOWN;
    }
    if (r.status() == 200) {
      return Op.Outcome.OK;
    }
    if (r.status() == 307) {
      return Op.Outcome.FAIL;
    }
    int code = r.errorCode();
    if (code < 0) {
      return Op.Outcome.UNKNOWN;
    }
    if (code == 300) {
      return "no leader".equals(r.errorCause()) ? Op.Outcome.FAIL : Op.Outcome.UNKNOWN;
    }
    return code >= 300 && code < 400 ? Op.Outcome.UNKNOWN : Op.Outcome.FAIL;
  }

  /** {@code TestAndSet: <current>!=<expected>} -> current (values never contain "!="). */
  static String currentFrom(String cause, String expected) {
    String prefix = "TestAndSet: ";
    String suffix = "!=" + expected;
    if (cause == null || !cause.startsWith(prefix) || !cause.endsWith(suffix)
        || cause.length() < prefix.length() + suffix.length()) {
      return null;
    }
    return cause.substring(prefix.length(), cause.length() - suffix.length());
  }

  private static long index(Http.Reply r) {
    Map<String, Object> m = Json.object(r.body());
    return m != null && m.get("index") instanceof Long l ? l : -1;
  }

  /** RFC 3339 in the server's zone -> {@link Instant#toString()}, the form every stream uses. */
  static String normalizeExpiration(String rfc3339) {
    try {
      return OffsetDateTime.parse(rfc3339).toInstant().toString();
    } catch (java.time.format.DateTimeParseException e) {
      return rfc3339;
    }
  }

  // ------------------------------------------------------------------------------ other load

  private void onceWriter() {
    Random rnd = new Random(seed * 7 + 1);
    for (int seq = 0; !stop.get(); seq++) {
      NodeProcess n = randomMember(rnd);
      String key = ONCE + "/o" + seq;
      Op op = begin(ONCE_PROCESS, Op.Kind.ONCE, key, "o" + seq, null, n.name);
      writeResult(op, http.send("POST", n.clientUrl() + "/v1/keys" + key, Http.form("value", "o" + seq), OP_TIMEOUT, 3));
      pace(rnd, op.outcome() == Op.Outcome.FAIL ? 100 : 40);
    }
  }

  private void ttlWriter() {
    Random rnd = new Random(seed * 7 + 2);
    for (int seq = 0; !stopTtl.get(); seq++) {
      NodeProcess n = randomMember(rnd);
      String key = TTL + "/t" + seq;
      int ttl = 1 + rnd.nextInt(2);
      Op op = begin(TTL_PROCESS, Op.Kind.TTL, key, "t" + seq, null, n.name).ttl(ttl);
      writeResult(op, http.send("POST", n.clientUrl() + "/v1/keys" + key,
          Http.form("value", "t" + seq, "ttl", Integer.toString(ttl)), OP_TIMEOUT, 3));
      if (op.outcome() != Op.Outcome.FAIL) {
        // an unknown one may still be applied: allow for its TTL from now
        long due = op.expiration() != null ? Instant.parse(op.expiration()).toEpochMilli()
            : System.currentTimeMillis() + ttl * 1000L;
        latestExpiration = Math.max(latestExpiration, due);
      }
      pace(rnd, 600);
    }
  }

  private void localReader() {
    Random rnd = new Random(seed * 7 + 3);
    while (!stop.get()) {
      NodeProcess n = randomMember(rnd);
      if (n.isServing()) {
        int incarnation = n.incarnation();
        long invoke = System.nanoTime();
        Http.Reply r = http.get(n.clientUrl() + "/v1/keys" + LIN, OP_TIMEOUT);
        long complete = System.nanoTime();
        List<Object> listing = r.isOk() ? Json.array(r.body()) : null;
        if (listing != null && !listing.isEmpty() && n.incarnation() == incarnation) {
          Map<String, String> values = new HashMap<>();
          long index = -1;
          for (Object o : listing) {
            if (o instanceof Map<?, ?> e) {
              if (e.get("value") instanceof String v && e.get("key") instanceof String k) {
                values.put(k, v);
              }
              if (e.get("index") instanceof Long i) {
                index = i;
              }
            }
          }
          if (index >= 0) {
            localReads.add(new LocalRead(n.name, incarnation, invoke, complete, index, values));
          }
        }
      }
      pace(rnd, 60);
    }
  }

  // ------------------------------------------------------------------------------ keys

  /** The register keys: a few active at a time, each retired once its history is big enough. */
  static final class Keys {
    private final String[] active;
    private final int maxOps;
    private final int maxUnknown;
    private final Map<String, int[]> counts = new LinkedHashMap<>();
    private final Map<String, String> last = new HashMap<>();
    private final Map<String, List<String>> recent = new HashMap<>();
    private int generation;

    Keys(int n, int maxOps, int maxUnknown) {
      this.active = new String[n];
      this.maxOps = maxOps;
      this.maxUnknown = maxUnknown;
      for (int i = 0; i < n; i++) {
        active[i] = fresh();
      }
    }

    private String fresh() {
      String k = LIN + "/k" + generation++;
      counts.put(k, new int[2]);
      return k;
    }

    synchronized String pick(Random rnd) {
      return active[rnd.nextInt(active.length)];
    }

    synchronized void done(String key, Op op) {
      int[] c = counts.get(key);
      c[0]++;
      if (op.isWrite() && op.outcome() == Op.Outcome.UNKNOWN) {
        c[1]++;
      }
      if (op.isWrite() && op.value != null && op.outcome() != Op.Outcome.FAIL) {
        List<String> r = recent.computeIfAbsent(key, k -> new ArrayList<>());
        r.add(op.value);
        if (r.size() > 4) {
          r.remove(0);
        }
      }
      if (c[0] >= maxOps || c[1] >= maxUnknown) {
        for (int i = 0; i < active.length; i++) {
          if (active[i].equals(key)) {
            active[i] = fresh();
          }
        }
      }
    }

    synchronized void saw(String key, String value) {
      last.put(key, value);
    }

    synchronized String lastValue(String key) {
      return last.get(key);
    }

    synchronized String someValue(String key, Random rnd) {
      List<String> r = recent.get(key);
      return r == null || r.isEmpty() ? null : r.get(rnd.nextInt(r.size()));
    }

    /** Every register key used so far. */
    synchronized List<String> all() {
      return new ArrayList<>(counts.keySet());
    }
  }
}
