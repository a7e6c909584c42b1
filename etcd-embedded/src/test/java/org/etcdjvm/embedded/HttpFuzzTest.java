package org.etcdjvm.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.etcdjvm.embedded.FuzzConnection.Response;
import org.etcdjvm.embedded.FuzzRequests.Request;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzzes one real node (Raft, store and HTTP server, over real sockets) with at least 100 000
 * generated requests ({@link FuzzRequests}): pipelined in batches of up to 20 on one connection,
 * written whole, split or slowly, the batches one after the other. For every request:
 *
 * <ul>
 *   <li>no 5xx: every request here is a client mistake or a valid request;
 *   <li>no hang: every request that can be answered is answered within 10 s, or the connection is
 *       closed after an answer that said so (a watch is woken by a write to its prefix and must
 *       then answer);
 *   <li>every error is the etcd error JSON (404 and 405 aside), no stack trace in any body;
 *   <li>the store changes only through the writes answered 200: after each batch the store's index
 *       has moved by exactly their number, and every value read back (GETs, listings, and a walk of
 *       the whole tree at the end) is the one a model built from those answers expects;
 *   <li>no crash: the node still answers at the end, and logged no error and no stack trace.
 * </ul>
 *
 * <p>The seed is printed first; {@code -Detcdjvm.fuzz.seed=<seed>} replays a run (and
 * {@code -Detcdjvm.fuzz.requests=<n>} changes its length). A failure names the run's seed, the
 * batch, and the request and response at fault.
 */
class HttpFuzzTest {
  private static final long SEED = Long.getLong("etcdjvm.fuzz.seed", System.nanoTime());
  private static final int REQUESTS = Integer.getInteger("etcdjvm.fuzz.requests", 100_000);
  private static final int MAX_BODY = 32 * 1024;
  private static final int MAX_VALUE = 8 * 1024;
  private static final int MAX_KEY = 256;
  private static final int MAX_FIELDS = 32;
  private static final int ANSWER_MILLIS = 10_000;
  /** The node's header and body deadlines: short, so requests cut short on purpose are answered soon. */
  private static final int READ_DEADLINE_MILLIS = 150;
  /**
   * How long the node keeps reading after an answer it closes the connection with (HttpConnection's
   * LINGER_MILLIS); a client slower than that to read the answer may lose it to the reset.
   */
  private static final int LINGER_MILLIS = 2_000;

  /**
   * The longest time this JVM (the node runs in it too) stood still since the current batch began,
   * by a thread that wakes every 5 ms: a GC pause or safepoint of 150 ms passes the node's read
   * deadlines for a client that sent everything in time.
   */
  private static final AtomicLong longestPauseNanos = new AtomicLong();

  static {
    Thread beat = new Thread(() -> {
      long last = System.nanoTime();
      while (true) {
        try {
          Thread.sleep(5);
        } catch (InterruptedException e) {
          return;
        }
        long now = System.nanoTime();
        longestPauseNanos.accumulateAndGet(now - last - 5_000_000, Math::max);
        last = now;
      }
    }, "fuzz-pause-detector");
    beat.setDaemon(true);
    beat.start();
  }

  @TempDir static Path dir;
  static EtcdNode node;
  static InetSocketAddress address;

  @BeforeAll
  static void start() throws Exception {
    // Small limits, so the fuzzer reaches them cheaply; short read deadlines, so requests cut short
    // on purpose are answered (408) quickly.
    node = EtcdNode.builder().dataDir(dir).clientAddress("127.0.0.1:0").peerAddress("127.0.0.1:0")
        .maxBodyBytes(MAX_BODY).maxValueBytes(MAX_VALUE).maxKeyBytes(MAX_KEY).maxFormFields(MAX_FIELDS)
        .historySize(200).readHeaderTimeout(Duration.ofMillis(READ_DEADLINE_MILLIS))
        .readBodyTimeout(Duration.ofMillis(READ_DEADLINE_MILLIS))
        .build();
    node.start().get(30, TimeUnit.SECONDS);
    URI uri = URI.create(node.clientUrl());
    address = new InetSocketAddress(uri.getHost(), uri.getPort());
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
      node = null; // a closed node still holds Atomix's log buffers; later classes share this JVM
    }
  }

  /** Files the fuzzer wrote and did not delete: key → value, from the answers of its writes. */
  private final Map<String, String> model = new HashMap<>();
  private final Map<Integer, Integer> statuses = new TreeMap<>();
  private Side side;
  /** Time spent waking watches and waiting for their answers, for the summary. */
  private long watchNanos;
  /** Batches after which the model was rebuilt from the store (an answer may have been lost). */
  private int resyncs;

  @Test
  void aHundredThousandGeneratedRequests() throws Exception {
    System.out.println("HttpFuzzTest: seed " + SEED + ", " + REQUESTS + " requests (replay with -Detcdjvm.fuzz.seed="
        + SEED + ")");
    Random run = new Random(SEED);
    ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "fuzz-writer");
      t.setDaemon(true);
      return t;
    });
    BadInputTest.LogCapture logs = BadInputTest.LogCapture.start();
    long begin = System.nanoTime();
    int sent = 0;
    int batches = 0;
    try {
      side = new Side();
      long index = side.index();
      while (sent < REQUESTS) {
        long batchSeed = run.nextLong();
        List<Request> batch = List.of();
        try {
          Random random = new Random(batchSeed);
          long before = index; // nothing but this test writes
          FuzzRequests generator = new FuzzRequests(random, MAX_BODY, MAX_VALUE, MAX_KEY, MAX_FIELDS);
          generator.knownIndex(before);
          batch = generator.batch();
          int writes = runBatch(batch, random, new Random(~batchSeed), writer);
          long after = side.index();
          index = after;
          if (writes < 0) {
            resync(); // an answer was lost to a slow client's reset: see runBatch
            resyncs++;
          } else if (after - before != writes) {
            throw new AssertionError("the store's index moved by " + (after - before) + " but " + writes
                + " writes were answered 200: a rejected request changed the store");
          }
          if (batches % 2_000 == 1_999) {
            compareWithModel();
          }
        } catch (AssertionError | Exception e) {
          throw new AssertionError("HttpFuzzTest failed in batch " + batches + " (batch seed " + batchSeed
              + "); replay the run with -Detcdjvm.fuzz.seed=" + SEED + "\nbatch:\n" + describe(batch)
              + "\n" + e.getMessage(), e);
        }
        sent += batch.size();
        batches++;
      }
      compareWithModel();
      assertThat(side.version()).as("the node still answers").isEqualTo("etcd v0.1.2");
    } finally {
      logs.stop();
      writer.shutdownNow();
      if (side != null) {
        side.close();
      }
    }
    System.out.printf("HttpFuzzTest: %d requests in %d batches, %.1f s (%.1f s of it waking watches), statuses %s,"
        + " %d keys in the store, %d resyncs%n", sent, batches, (System.nanoTime() - begin) / 1e9, watchNanos / 1e9,
        statuses, model.size(), resyncs);
    assertThat(resyncs).as("batches whose answers were lost to slow reading").isLessThan(10);
    List<String> bad = logs.text().lines()
        .filter(l -> !l.contains(" DEBUG ")) // what a debugging run asked for
        .filter(l -> l.contains(" ERROR ") || l.startsWith("\tat ") || l.contains("Exception")).toList();
    assertThat(bad).as("errors or stack traces logged during the run").isEmpty();
  }

  /**
   * Sends one batch on a fresh connection and checks every answer; returns the writes answered 200,
   * or -1 when an answer may have been lost (then nothing is known of that request's effect).
   */
  private int runBatch(List<Request> batch, Random random, Random split, ExecutorService writer) throws Exception {
    int total = batch.stream().mapToInt(r -> r.bytes().length).sum();
    byte[] all = new byte[total];
    int at = 0;
    for (Request r : batch) {
      System.arraycopy(r.bytes(), 0, all, at, r.bytes().length);
      at += r.bytes().length;
    }
    int writes = 0;
    longestPauseNanos.set(0);
    try (FuzzConnection c = new FuzzConnection(address)) {
      // Written from another thread: a client that writes a long pipeline before reading would
      // otherwise deadlock with a server that stops reading until its answers are taken.
      Future<?> written = writer.submit(() -> c.write(all, split));
      for (int i = 0; i < batch.size(); i++) {
        Request r = batch.get(i);
        if (r.mayWait()) {
          written.get(ANSWER_MILLIS, TimeUnit.MILLISECONDS); // the watch is on the wire before it is woken
          writes += watch(c, r, random);
          break;
        }
        Response response;
        try {
          response = c.read(r.isHead(), ANSWER_MILLIS);
        } catch (SocketTimeoutException e) {
          throw new AssertionError("request " + i + " not answered within " + ANSWER_MILLIS + " ms: " + r.summary());
        } catch (java.net.SocketException e) {
          // a reset instead of a clean close: the node closed the connection while this client
          // was still sending (its deadline passed); judged below like a close
          response = null;
        }
        if (response == null) {
          // Acceptable for broken framing, and for a first request this client took longer to send
          // than the node's header deadline allows a new connection.
          if (!r.wellFramed() || (i == 0 && c.firstBytesLaterThan(READ_DEADLINE_MILLIS))) {
            break;
          }
          // A client that took longer than the node's linger to read an answer that closed the
          // connection may have lost it to the reset (seen on a machine at load average 30).
          if (c.millisSinceConnect() >= LINGER_MILLIS) {
            return -1;
          }
          // A client that paused for half the read deadline or more while sending a later request,
          // or a pause of the whole JVM that long: the node may have closed without a word, even
          // with this request's answer pending (seen once in CI).
          if (c.stalledLongerThan(READ_DEADLINE_MILLIS / 2)
              || longestPauseNanos.get() >= TimeUnit.MILLISECONDS.toNanos(READ_DEADLINE_MILLIS) / 2) {
            return -1;
          }
          throw new AssertionError("connection closed without an answer to request " + i + " (client port "
              + c.localPort() + "; longest pause of"
              + " this client's writing " + c.longestGapMillis() + " ms, of the JVM "
              + TimeUnit.NANOSECONDS.toMillis(longestPauseNanos.get()) + " ms): " + r.summary());
        }
        writes += check(r, response);
        if (response.closes()) {
          if (!c.closedByServer(ANSWER_MILLIS)) {
            throw new AssertionError("answer " + i + " said Connection: close, but the connection stayed open");
          }
          break;
        }
        if (!r.wellFramed()) {
          break; // what follows a broken request is not ours to predict
        }
      }
      written.get(ANSWER_MILLIS, TimeUnit.MILLISECONDS);
    }
    return writes;
  }

  /**
   * A watch, last in its batch. Half the time it is just left (the connection closes and must free
   * it); otherwise writes under its prefix (or to the key itself) wake it, and a GET watch must then
   * answer. The server may read the watch only after the first write, so up to eight are made,
   * waiting 50 ms for the answer after the first and twice as long after each further one (12.75 s
   * in all). A POST watch from an index beyond those writes may go on waiting.
   */
  private int watch(FuzzConnection c, Request r, Random random) throws IOException {
    if (random.nextBoolean()) {
      return 0;
    }
    long begin = System.nanoTime();
    try {
      boolean mustAnswer = r.method().equals("GET");
      int writes = 0;
      for (int round = 0; round < 8; round++) {
        boolean woken = false;
        for (String target : new String[] {r.rawKey() + "/fuzzwake", r.rawKey()}) {
          Response wake = side.put("/v1/keys" + target, "value=wake" + round);
          if (wake != null && wake.status() == 200) {
            apply(wake);
            writes++;
            woken = true;
            break;
          }
        }
        Response response;
        try {
          response = c.read(false, 50 << round);
        } catch (SocketTimeoutException e) {
          if (!woken || (!mustAnswer && round >= 1)) {
            return writes; // nothing can wake it (a reserved prefix, say), or it waits for a later index
          }
          continue;
        }
        if (response == null) {
          throw new AssertionError("connection closed without an answer to the watch " + r.summary());
        }
        check(r, response);
        return writes;
      }
      throw new AssertionError("watch not answered after 8 writes under its prefix: " + r.summary());
    } finally {
      watchNanos += System.nanoTime() - begin;
    }
  }

  /** Checks one answer; returns 1 if it was a write that changed the store. */
  private int check(Request r, Response response) {
    int status = response.status();
    statuses.merge(status, 1, Integer::sum);
    String body = response.text();
    if (status >= 500) {
      throw failure("a 5xx for a client's request", r, response);
    }
    if (body.contains("Exception") || body.contains("\tat ") || body.contains("java.")) {
      throw failure("a stack trace in an answer", r, response);
    }
    if (status >= 400 && status != 404 && status != 405 && response.body().length > 0) {
      if (!"application/json".equals(response.header("content-type")) || !body.startsWith("{\"errorCode\":")
          || !body.endsWith("}\n")) {
        throw failure("an error that is not the etcd error JSON", r, response);
      }
      Json.object(body);
      return 0;
    }
    if (status != 200 || r.isHead() || !"application/json".equals(response.header("content-type"))) {
      return 0;
    }
    Object json = Json.parse(body);
    if (json instanceof List<?> listing) {
      for (Object entry : listing) {
        verifyRead((Map<?, ?>) entry, r, response);
      }
      return 0;
    }
    Map<?, ?> event = (Map<?, ?>) json;
    if (r.route().equals("keys") && r.isWrite() && !"GET".equals(event.get("action"))) {
      apply(response);
      return 1;
    }
    if ("GET".equals(event.get("action"))) {
      verifyRead(event, r, response);
    }
    return 0;
  }

  private static AssertionError failure(String what, Request r, Response response) {
    return new AssertionError(what + ": " + r.summary() + " -> " + response.status() + " " + response.headers()
        + " " + FuzzRequests.abbreviate(response.text()));
  }

  /** A value read back is the one the model expects. */
  private void verifyRead(Map<?, ?> entry, Request r, Response response) {
    String key = (String) entry.get("key");
    if (Boolean.TRUE.equals(entry.get("dir")) || key.equals("/_etcd") || key.startsWith("/_etcd/")) {
      return;
    }
    Object expected = model.get(key);
    if (!java.util.Objects.equals(entry.get("value"), expected)) {
      throw failure("read back " + key + " = " + FuzzRequests.abbreviate(String.valueOf(entry.get("value")))
          + ", but the answers of the writes say " + FuzzRequests.abbreviate(String.valueOf(expected)), r, response);
    }
  }

  /** Applies the answer of a successful write to the model. */
  private void apply(Response response) {
    Map<String, Object> event = Json.object(response.text());
    String key = (String) event.get("key");
    if ("SET".equals(event.get("action"))) {
      model.put(key, (String) event.get("value"));
    } else if ("DELETE".equals(event.get("action"))) {
      model.remove(key);
    } else {
      throw new AssertionError("a write answered with " + response.text());
    }
  }

  /** Rebuilds the model from the store. */
  private void resync() throws IOException {
    Map<String, String> store = new TreeMap<>();
    walk("/", store);
    store.keySet().removeIf(k -> k.startsWith("/_etcd/"));
    model.clear();
    model.putAll(store);
  }

  /** Walks the whole tree and compares its files with the model. */
  private void compareWithModel() throws IOException {
    Map<String, String> store = new TreeMap<>();
    walk("/", store);
    store.keySet().removeIf(k -> k.startsWith("/_etcd/"));
    assertThat(store).as("the store against the answers of the writes").isEqualTo(new TreeMap<>(model));
  }

  private void walk(String dir, Map<String, String> files) throws IOException {
    Response r = side.get("/v1/keys" + encode(dir));
    assertThat(r.status()).as("listing %s: %s", dir, r.text()).isEqualTo(200);
    for (Map<String, Object> entry : Json.array(r.text())) {
      String key = (String) entry.get("key");
      if (Boolean.TRUE.equals(entry.get("dir"))) {
        walk(key, files);
      } else {
        files.put(key, (String) entry.get("value"));
      }
    }
  }

  private static String encode(String key) {
    StringBuilder sb = new StringBuilder();
    for (String segment : key.substring(1).split("/", -1)) {
      sb.append('/').append(URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20"));
    }
    return sb.toString();
  }

  private static String describe(List<Request> batch) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < batch.size(); i++) {
      sb.append("  ").append(i).append(": ").append(batch.get(i).summary()).append("\n     ")
          .append(FuzzRequests.abbreviate(new String(batch.get(i).bytes(), StandardCharsets.ISO_8859_1)))
          .append('\n');
    }
    return sb.toString();
  }

  /** The fuzzer's own keep-alive connection for reading the index, waking watches and walking the tree. */
  private static final class Side {
    private FuzzConnection c;

    Side() throws IOException {
      c = new FuzzConnection(address);
    }

    long index() throws IOException {
      Response r = get("/v1/keys/_etcd");
      return (Long) Json.array(r.text()).get(0).get("index");
    }

    String version() throws IOException {
      return get("/version").text();
    }

    Response get(String target) throws IOException {
      return exchange("GET " + target + " HTTP/1.1\r\nHost: fuzz\r\n\r\n");
    }

    Response put(String target, String form) throws IOException {
      return exchange("PUT " + target + " HTTP/1.1\r\nHost: fuzz\r\nContent-Type: " + FuzzRequests.FORM
          + "\r\nContent-Length: " + form.length() + "\r\n\r\n" + form);
    }

    /** One request; on a fresh connection when the last one was closed (idle, or by a refused target). */
    private Response exchange(String request) throws IOException {
      for (int attempt = 0; ; attempt++) {
        Response r = null;
        try {
          c.write(request.getBytes(StandardCharsets.ISO_8859_1), new Random(0));
          r = c.read(request.startsWith("HEAD"), ANSWER_MILLIS);
        } catch (UncheckedIOException | SocketTimeoutException e) {
          if (attempt > 0) {
            throw e;
          }
        }
        if (r != null && !r.closes()) {
          return r;
        }
        c.close();
        c = new FuzzConnection(address);
        if (r != null) {
          return r;
        }
        if (attempt > 0) {
          throw new IOException("no answer to " + FuzzRequests.abbreviate(request));
        }
      }
    }

    void close() {
      c.close();
    }
  }
}
