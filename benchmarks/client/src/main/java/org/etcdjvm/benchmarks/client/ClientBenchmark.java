package org.etcdjvm.benchmarks.client;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import okhttp3.Call;
import okhttp3.ConnectionPool;
import okhttp3.Dispatcher;
import okhttp3.FormBody;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.etcdjvm.client.EtcdClient;
import org.etcdjvm.client.Watch;
import org.etcdjvm.embedded.EtcdNode;

/**
 * EtcdClient against raw OkHttp calls on one embedded node, in one run, and watch latency.
 *
 * <p><b>Throughput.</b> For get and set of one key, with 1 and 16 threads (each a closed loop of
 * blocking calls), the same {@link OkHttpClient} (pool, dispatcher, timeouts) serves both sides:
 * the EtcdClient is built on it with {@code okHttpClient(base)}. The raw side does the least a
 * caller can: a prebuilt {@link Request} (and form body), {@code execute()}, a status check and
 * the body read as a String. The client side is the public API as an application uses it: {@code
 * etcd.get(key).send()} / {@code etcd.set(key, value).send()}, which builds the URL and form,
 * follows its redirect/failover logic and parses the JSON into an {@code EtcdResponse}. The same
 * worker threads alternate between the two every {@code --slice-ms} (ABBA order: raw, client,
 * client, raw, ...) for {@code --seconds} each, so both see the same machine: on a shared box the
 * noise of other processes is far larger than the difference being measured. Overhead = raw rate
 * / client rate - 1 (the extra time per request); its spread over the ABBA blocks is printed too.
 *
 * <p><b>Watch latency.</b> A set is made (raw OkHttp), and the time from its response to the
 * watch callback is recorded, one event at a time. Measured for EtcdClient's watch and, as the
 * floor, for a raw long-poll loop ({@code POST /v1/watch/k index=n}, regex for the index), both
 * open at once on different keys, with sets alternating between them. Negative values mean the
 * event arrived before the set's response (the node wakes watchers before it answers the write).
 *
 * <p>Options: {@code --seconds 5 --warmup 1 --threads 1,16 --slice-ms 50 --watch-events 1000
 * --cases throughput,watch --ops get,set}.
 */
public final class ClientBenchmark {
  private static final Pattern INDEX = Pattern.compile("\"index\":(\\d+)");

  private ClientBenchmark() {}

  interface Op {
    void call() throws Exception;
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = parse(args);
    double seconds = Double.parseDouble(opts.getOrDefault("seconds", "5"));
    double warmup = Double.parseDouble(opts.getOrDefault("warmup", "1"));
    long sliceMillis = Long.parseLong(opts.getOrDefault("slice-ms", "50"));
    int watchEvents = Integer.parseInt(opts.getOrDefault("watch-events", "1000"));
    List<String> cases = List.of(opts.getOrDefault("cases", "throughput,watch").split(","));
    List<String> kinds = List.of(opts.getOrDefault("ops", "get,set").split(","));
    int[] threadCounts = Arrays.stream(opts.getOrDefault("threads", "1,16").split(",")).mapToInt(Integer::parseInt).toArray();

    Path dir = Files.createTempDirectory("etcd-client-bench");
    EtcdNode node = EtcdNode.builder().dataDir(dir).clientAddress("127.0.0.1:0").peerAddress("127.0.0.1:0").build();
    node.start().get(60, TimeUnit.SECONDS);
    String url = node.clientUrl();
    progress("node ready at %s", url);

    ExecutorService executor = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS,
        new SynchronousQueue<>(), r -> {
          Thread t = new Thread(r, "okhttp-bench");
          t.setDaemon(true);
          return t;
        });
    Dispatcher dispatcher = new Dispatcher(executor);
    dispatcher.setMaxRequestsPerHost(64);
    OkHttpClient base = new OkHttpClient.Builder()
        .dispatcher(dispatcher)
        .connectionPool(new ConnectionPool(64, 5, TimeUnit.MINUTES))
        .connectTimeout(Duration.ofSeconds(2))
        .readTimeout(Duration.ofSeconds(5))
        .followRedirects(false)
        .build();
    EtcdClient etcd = EtcdClient.builder().endpoints(url).okHttpClient(base).build();

    String value = "value-0123456789";
    etcd.set("/bench/get", value).send();
    Request rawGetRequest = new Request.Builder().url(url + "/v1/keys/bench/get").build();
    Request rawSetRequest = new Request.Builder().url(url + "/v1/keys/bench/set")
        .post(new FormBody.Builder().add("value", value).build()).build();

    Map<String, Op> ops = new LinkedHashMap<>();
    ops.put("get raw", () -> raw(base, rawGetRequest));
    ops.put("get client", () -> etcd.get("/bench/get").send());
    ops.put("set raw", () -> raw(base, rawSetRequest));
    ops.put("set client", () -> etcd.set("/bench/set", value).send());

    String loadBefore = loadAverage();
    long started = System.nanoTime();
    List<String> rows = new ArrayList<>();
    if (cases.contains("throughput")) {
      progress("JIT warm-up");
      for (String kind : kinds) compare(kind, ops.get(kind + " raw"), ops.get(kind + " client"), 4, Math.max(2, warmup * 2), 0, sliceMillis);
      for (String kind : kinds) {
        for (int threads : threadCounts) {
          rows.add(compare(kind, ops.get(kind + " raw"), ops.get(kind + " client"), threads, warmup, seconds, sliceMillis));
        }
      }
    }

    List<String> latencyRows = new ArrayList<>();
    if (cases.contains("watch")) {
      progress("watch latency");
      watchLatency(etcd, base, url, 200, "/warm"); // warm-up
      long[][] latency = watchLatency(etcd, base, url, watchEvents, "/latency");
      latencyRows.add(latencyRow("EtcdClient watch", latency[0]));
      latencyRows.add(latencyRow("raw long-poll loop", latency[1]));
    }
    String loadAfter = loadAverage();
    long tookSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);

    etcd.close();
    executor.shutdown();
    base.connectionPool().evictAll();
    node.close();
    deleteRecursively(dir);

    // ---- report
    StringBuilder out = new StringBuilder();
    out.append("## etcd-client benchmark\n\n");
    out.append(String.format(Locale.ROOT, "- machine: %d CPUs (`nproc`), %s, %s; Java %s (%s)%n",
        Runtime.getRuntime().availableProcessors(), cpuModel(), System.getProperty("os.name") + " " + System.getProperty("os.arch"),
        System.getProperty("java.version"), System.getProperty("java.vm.name")));
    out.append(String.format(Locale.ROOT, "- one embedded node in the same JVM, loopback; per case %.1f s raw + %.1f s client, "
        + "alternating every %d ms (ABBA), after %.1f s warm-up; run took %d s%n", seconds, seconds, sliceMillis, warmup, tookSeconds));
    out.append("- load average before / after: ").append(loadBefore).append(" / ").append(loadAfter).append("\n\n");
    if (!rows.isEmpty()) {
      out.append("| op | threads | raw OkHttp req/s | EtcdClient req/s | overhead | overhead per ABBA block: median [p25, p75] "
          + "| caller CPU per request, raw / client | whole-process CPU per request, raw / client |\n");
      out.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
      rows.forEach(out::append);
      out.append("\nOverhead = raw rate / client rate - 1: the extra time per request. Caller CPU: CPU time of the "
          + "calling threads inside the call (OkHttp + client code, not the node's threads). Whole-process CPU: "
          + "the JVM's CPU time (client and node) per completed request.\n\n");
    }
    if (!latencyRows.isEmpty()) {
      out.append("Watch latency, set response -> callback (one event at a time, client and raw alternating):\n\n");
      out.append("| watch | events | median | p90 | p99 | max | event before response |\n|---|---:|---:|---:|---:|---:|---:|\n");
      latencyRows.forEach(out::append);
    }
    System.out.print(out);
  }

  /**
   * Runs {@code raw} and {@code client} on the same {@code threads} worker threads, switching
   * between them every {@code sliceMillis} in ABBA order, so that both see the same machine (other
   * processes, GC, JIT) over the run. Returns the report row.
   */
  private static String compare(String kind, Op raw, Op client, int threads, double warmupSeconds,
      double seconds, long sliceMillis) throws Exception {
    Op[] ops = {raw, client};
    LongAdder[] done = {new LongAdder(), new LongAdder()};
    LongAdder[] measuredCalls = {new LongAdder(), new LongAdder()};
    LongAdder[] callerCpu = {new LongAdder(), new LongAdder()}; // CPU ns of the calling threads
    LongAdder errors = new LongAdder();
    AtomicReference<Exception> firstError = new AtomicReference<>();
    ThreadMXBean threadBean = ManagementFactory.getThreadMXBean();
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    class Flags {
      volatile int mode;
      volatile boolean measuring;
      volatile boolean stop;
    }
    Flags flags = new Flags();
    List<Thread> workers = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      Thread t = new Thread(() -> {
        while (!flags.stop) {
          int m = flags.mode;
          try {
            long cpu = threadBean.getCurrentThreadCpuTime();
            ops[m].call();
            done[m].increment();
            if (flags.measuring) {
              callerCpu[m].add(threadBean.getCurrentThreadCpuTime() - cpu);
              measuredCalls[m].increment();
            }
          } catch (Exception e) {
            errors.increment();
            firstError.compareAndSet(null, e);
          }
        }
      }, "bench-" + i);
      t.setDaemon(true);
      workers.add(t);
      t.start();
    }
    // warm-up: alternate too, nothing recorded
    long warmSlices = Math.max(2, Math.round(warmupSeconds * 1000 / sliceMillis));
    for (int i = 0; i < warmSlices; i++) {
      flags.mode = i % 2;
      Thread.sleep(sliceMillis);
    }
    int slices = (int) Math.max(4, Math.round(2 * seconds * 1000 / sliceMillis / 4) * 4);
    double[] secs = new double[2];
    double[] processCpu = new double[2];
    List<Double> blockOverheads = new ArrayList<>();
    double[] blockOps = new double[2];
    double[] blockSecs = new double[2];
    long[] start = {done[0].sum(), done[1].sum()};
    flags.measuring = true;
    for (int i = 0; i < slices; i++) {
      int m = ((i + 1) / 2) % 2; // 0 1 1 0 0 1 1 0 ...
      flags.mode = m;
      long before = done[m].sum();
      long cpu0 = os.getProcessCpuTime();
      long t0 = System.nanoTime();
      Thread.sleep(sliceMillis);
      long n = done[m].sum() - before;
      double dt = (System.nanoTime() - t0) / 1e9;
      processCpu[m] += os.getProcessCpuTime() - cpu0;
      secs[m] += dt;
      blockOps[m] += n;
      blockSecs[m] += dt;
      if (i % 4 == 3) {
        blockOverheads.add((blockOps[0] / blockSecs[0]) / (blockOps[1] / blockSecs[1]) - 1);
        blockOps = new double[2];
        blockSecs = new double[2];
      }
    }
    // every completed call counts for the side that made it, including those that ended just after a switch
    double[] ops2 = {done[0].sum() - start[0], done[1].sum() - start[1]};
    flags.measuring = false;
    flags.stop = true;
    for (Thread t : workers) t.join();
    if (errors.sum() > 0 && ops2[0] + ops2[1] == 0) throw firstError.get();
    double rawRate = ops2[0] / secs[0];
    double clientRate = ops2[1] / secs[1];
    double[] sorted = blockOverheads.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    double[] callerUs = new double[2];
    double[] processUs = new double[2];
    for (int m = 0; m < 2; m++) {
      callerUs[m] = callerCpu[m].sum() / 1e3 / Math.max(1, measuredCalls[m].sum());
      processUs[m] = processCpu[m] / 1e3 / Math.max(1, ops2[m]);
    }
    String row = String.format(Locale.ROOT,
        "| %s | %d | %,.0f | %,.0f | %+.1f %% | %+.1f %% [%+.1f, %+.1f] | %.1f / %.1f µs (%+.1f µs) | %.1f / %.1f µs (%+.1f %%) |%n",
        kind, threads, rawRate, clientRate, (rawRate / clientRate - 1) * 100,
        100 * quantile(sorted, 0.5), 100 * quantile(sorted, 0.25), 100 * quantile(sorted, 0.75),
        callerUs[0], callerUs[1], callerUs[1] - callerUs[0],
        processUs[0], processUs[1], (processUs[1] / processUs[0] - 1) * 100);
    progress("%s %2d threads: raw %,.0f req/s, client %,.0f req/s, overhead %+.1f %%%s", kind, threads, rawRate, clientRate,
        (rawRate / clientRate - 1) * 100,
        errors.sum() == 0 ? "" : "  (" + errors.sum() + " errors, first: " + firstError.get() + ")");
    return row;
  }

  private static double quantile(double[] sorted, double q) {
    if (sorted.length == 0) return Double.NaN;
    double pos = q * (sorted.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = (int) Math.ceil(pos);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
  }

  private static void raw(OkHttpClient client, Request request) throws IOException {
    Call call = client.newCall(request);
    try (Response response = call.execute()) {
      if (response.code() != 200) throw new IOException("HTTP " + response.code() + ": " + response.body().string());
      response.body().string();
    }
  }

  /**
   * {@code events} sets for each of the two watchers, one set at a time, alternating between the
   * EtcdClient watch on {@code prefix/client} and a raw long-poll loop on {@code prefix/raw}, both
   * open the whole time. Returns, per watcher, the nanoseconds from each set's response to the
   * event's arrival (the callback for EtcdClient; right after reading the body for the raw loop).
   */
  private static long[][] watchLatency(EtcdClient etcd, OkHttpClient base, String url, int events, String prefix) throws Exception {
    BlockingQueue<long[]> clientSeen = new LinkedBlockingQueue<>();
    BlockingQueue<long[]> rawSeen = new LinkedBlockingQueue<>();
    OkHttpClient longPolls = base.newBuilder().readTimeout(Duration.ofSeconds(60)).build();
    AtomicReference<Call> current = new AtomicReference<>();
    long firstIndex = etcd.list("/").send().stream().mapToLong(e -> e.index()).max().orElse(0) + 1;
    Thread poller = new Thread(() -> {
      long next = firstIndex;
      while (!Thread.currentThread().isInterrupted()) {
        Request poll = new Request.Builder().url(url + "/v1/watch" + prefix + "/raw")
            .post(new FormBody.Builder().add("index", Long.toString(next)).build()).build();
        Call call = longPolls.newCall(poll);
        current.set(call);
        try (Response r = call.execute()) {
          String body = r.body().string();
          long at = System.nanoTime();
          Matcher m = INDEX.matcher(body);
          if (!m.find()) continue;
          long index = Long.parseLong(m.group(1));
          rawSeen.add(new long[] {index, at});
          next = index + 1;
        } catch (IOException e) {
          return;
        }
      }
    }, "raw-watch");
    poller.setDaemon(true);
    poller.start();
    long[] clientLatency = new long[events];
    long[] rawLatency = new long[events];
    try (Watch watch = etcd.watch(prefix + "/client").listener(e -> clientSeen.add(new long[] {e.index(), System.nanoTime()})).start()) {
      Thread.sleep(100); // let both first long-polls reach the server
      for (int i = 0; i < 2 * events; i++) {
        boolean client = i % 2 == 0;
        long latency = setAndWait(base, url + "/v1/keys" + prefix + (client ? "/client" : "/raw") + "/k", "v" + i,
            client ? clientSeen : rawSeen);
        if (client) clientLatency[i / 2] = latency; else rawLatency[i / 2] = latency;
      }
    } finally {
      poller.interrupt();
      Call call = current.get();
      if (call != null) call.cancel();
      poller.join(5_000);
    }
    return new long[][] {clientLatency, rawLatency};
  }

  /** A raw set; then waits for its event in {@code seen}; returns event arrival - set response, in ns. */
  private static long setAndWait(OkHttpClient base, String keyUrl, String value, BlockingQueue<long[]> seen) throws Exception {
    Request set = new Request.Builder().url(keyUrl).post(new FormBody.Builder().add("value", value).build()).build();
    long index;
    long responded;
    try (Response r = base.newCall(set).execute()) {
      String body = r.body().string();
      responded = System.nanoTime();
      Matcher m = INDEX.matcher(body);
      if (r.code() != 200 || !m.find()) throw new IOException("set failed: " + r.code() + " " + body);
      index = Long.parseLong(m.group(1));
    }
    long[] event;
    do {
      event = seen.poll(5, TimeUnit.SECONDS);
      if (event == null) throw new IllegalStateException("no watch event for index " + index + " within 5 s");
    } while (event[0] < index);
    if (event[0] != index) throw new IllegalStateException("watch skipped index " + index + ": got " + event[0]);
    return event[1] - responded;
  }

  private static String latencyRow(String name, long[] latency) {
    long[] all = Arrays.stream(latency).sorted().toArray();
    long negative = Arrays.stream(all).filter(x -> x < 0).count();
    return String.format(Locale.ROOT, "| %s | %d | %s | %s | %s | %s | %.0f %% |%n", name, all.length,
        ms(percentile(all, 50)), ms(percentile(all, 90)), ms(percentile(all, 99)), ms(all[all.length - 1]),
        100.0 * negative / all.length);
  }

  private static long percentile(long[] sorted, double p) {
    int rank = (int) Math.ceil(p / 100 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  private static String ms(long nanos) {
    return String.format(Locale.ROOT, "%.3f ms", nanos / 1e6);
  }

  private static String cpuModel() {
    try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
      return lines.filter(l -> l.startsWith("model name")).map(l -> l.substring(l.indexOf(':') + 1).trim())
          .findFirst().orElse("unknown CPU");
    } catch (IOException | RuntimeException e) {
      return "unknown CPU";
    }
  }

  private static String loadAverage() {
    try {
      String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
      return parts[0] + " " + parts[1] + " " + parts[2];
    } catch (IOException | RuntimeException e) {
      return "n/a";
    }
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> opts = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("usage: [--seconds S] [--warmup S] [--threads 1,16] [--slice-ms N] [--watch-events N] [--cases throughput,watch] [--ops get,set]");
      }
      opts.put(args[i].substring(2), args[++i]);
    }
    return opts;
  }

  private static void progress(String format, Object... args) {
    System.err.printf("[%tT] %s%n", System.currentTimeMillis(), String.format(Locale.ROOT, format, args));
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}
