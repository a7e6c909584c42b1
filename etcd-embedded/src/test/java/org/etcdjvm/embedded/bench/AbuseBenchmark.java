package org.etcdjvm.embedded.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.etcdjvm.embedded.RawHttp;

/**
 * The attacks of issue 9 against a running node (started by {@code benchmarks/abuse.sh}), one after
 * the other, each for a few seconds, while a normal client's GET and PUT latencies are measured; the
 * node's memory (RSS, after a full GC) is taken before each attack, at its peak, and after the
 * abuser has left. Prints a markdown report on stdout, progress on stderr.
 *
 * <p>The normal client connects from 127.0.0.1, opens a fresh connection every 20 ms and sends a
 * GET and a PUT on it (so a lock-out of new connections shows), each with a 10 s deadline (a
 * missed deadline counts as an error). The abusers connect from other loopback addresses.
 *
 * <pre>
 * args: --url http://127.0.0.1:PORT --pid NODE_JVM_PID [--seconds 20] [--attacks a,b,...]
 * </pre>
 */
public final class AbuseBenchmark {
  private static final String FORM = "application/x-www-form-urlencoded";
  private static final int MiB = 1024 * 1024;

  private final String url;
  private final long pid;
  private final int seconds;

  private AbuseBenchmark(String url, long pid, int seconds) {
    this.url = url;
    this.pid = pid;
    this.seconds = seconds;
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = new LinkedHashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      opts.put(args[i], args[i + 1]);
    }
    AbuseBenchmark bench = new AbuseBenchmark(opts.get("--url"), Long.parseLong(opts.get("--pid")),
        Integer.parseInt(opts.getOrDefault("--seconds", "20")));
    List<String> attacks = Arrays.asList(opts.getOrDefault("--attacks",
        "none,quadratic,no-read,flood,unfinished,fan-out,write-flood,listing").split(","));
    bench.run(attacks);
  }

  private void run(List<String> attacks) throws Exception {
    progress("warming up the node and the normal client for " + seconds + " s");
    normalClient(seconds, () -> { });
    System.out.println("| attack | what the abuser did | normal GET p50 / p99 / max (ms) | normal PUT p50 / p99 / max (ms)"
        + " | normal errors | RSS before → peak → after (MB) | after / before | anonymous RSS before → after (MB)"
        + " | held before → after (MB) |");
    System.out.println("|---|---|---|---|---|---|---|---|---|");
    for (String name : attacks) {
      Attack attack = attack(name);
      attack.prepare();
      long before = rssAfterGc();
      long anonBefore = anonymousRss();
      long heldBefore = held();
      progress(name + ": " + attack.describe());
      attack.start();
      Result r;
      try {
        r = normalClient(seconds, attack::tick);
      } finally {
        attack.stop();
      }
      // The node closes what the abuser left (its sockets are closed already). -Dabuse.settle.seconds
      // waits longer: Atomix drops its sessions' command results at the next keep-alive (27.5 s apart).
      Thread.sleep(TimeUnit.SECONDS.toMillis(Long.getLong("abuse.settle.seconds", 2)));
      long after = rssAfterGc();
      long anonAfter = anonymousRss();
      long heldAfter = held();
      System.out.printf("| %s | %s | %s | %s | %d of %d | %d → %d → %d | %.2f | %d → %d | %d → %d |%n", name,
          attack.outcome(), r.get.summary(), r.put.summary(), r.errors.get(), r.get.size() + r.put.size(),
          before / MiB, Math.max(before, r.peakRss.get()) / MiB, after / MiB, (double) after / before,
          anonBefore / MiB, anonAfter / MiB, heldBefore / MiB, heldAfter / MiB);
    }
  }

  // ------------------------------------------------------------------ the normal client

  private record Result(Latencies get, Latencies put, AtomicLong errors, AtomicLong peakRss) {}

  /** Every 20 ms: a fresh connection, a GET and a PUT, timed; for {@code secs} seconds. */
  private Result normalClient(int secs, Runnable everySecond) throws Exception {
    Result r = new Result(new Latencies(), new Latencies(), new AtomicLong(), new AtomicLong());
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(secs);
    long nextSecond = System.nanoTime();
    long next = System.nanoTime();
    int i = 0;
    while (System.nanoTime() < end) {
      if (System.nanoTime() >= nextSecond) {
        r.peakRss.accumulateAndGet(rss(), Math::max);
        everySecond.run();
        nextSecond += TimeUnit.SECONDS.toNanos(1);
      }
      String body = "value=normal-" + i++;
      try (RawHttp c = new RawHttp(url, "127.0.0.1")) {
        c.setReadTimeout(10_000);
        long t0 = System.nanoTime();
        c.send("GET /v1/keys/bench/normal HTTP/1.1\r\nHost: x\r\n\r\n");
        RawHttp.Response get = c.read();
        long t1 = System.nanoTime();
        c.send("PUT /v1/keys/bench/normal HTTP/1.1\r\nHost: x\r\nContent-Type: " + FORM + "\r\nContent-Length: "
            + body.length() + "\r\n\r\n" + body);
        RawHttp.Response put = c.read();
        long t2 = System.nanoTime();
        r.get.add(t1 - t0);
        r.put.add(t2 - t1);
        if ((get.status() != 200 && get.status() != 400) || put.status() != 200) {
          r.errors.incrementAndGet();
        }
      } catch (UncheckedIOException e) {
        r.errors.incrementAndGet();
      }
      next += TimeUnit.MILLISECONDS.toNanos(20);
      long wait = next - System.nanoTime();
      if (wait > 0) {
        TimeUnit.NANOSECONDS.sleep(wait);
      } else {
        next = System.nanoTime();
      }
    }
    return r;
  }

  /** Nanosecond samples; summarised in milliseconds. */
  private static final class Latencies {
    private final List<Long> samples = new ArrayList<>();

    void add(long nanos) {
      samples.add(nanos);
    }

    int size() {
      return samples.size();
    }

    String summary() {
      if (samples.isEmpty()) {
        return "-";
      }
      List<Long> sorted = new ArrayList<>(samples);
      Collections.sort(sorted);
      return String.format("%.1f / %.1f / %.1f", ms(sorted.get(sorted.size() / 2)),
          ms(sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(sorted.size() * 0.99) - 1))),
          ms(sorted.get(sorted.size() - 1)));
    }

    private static double ms(long nanos) {
      return nanos / 1e6;
    }
  }

  // ------------------------------------------------------------------ the node's memory

  private long rss() {
    return status("VmRSS:");
  }

  /**
   * The RSS without file-backed pages: mostly the Raft log's segments, which the node maps, and which
   * a write flood fills (up to the log's limit, 64 MB); the kernel can drop them at will.
   */
  private long anonymousRss() {
    return status("RssAnon:");
  }

  private long status(String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith(field)) {
          return Long.parseLong(line.replaceAll("\\D+", "")) * 1024;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the node's memory", e);
    }
    throw new IllegalStateException("no " + field + " for " + pid);
  }

  /**
   * The node's RSS after a full GC (which gives unused heap back to the OS) and a trim of the C heap
   * (glibc keeps freed memory in its arenas otherwise): what the node holds, not what its allocators
   * keep in reserve.
   */
  private long rssAfterGc() throws Exception {
    jcmd("GC.run");
    jcmd("System.trim_native_heap");
    Thread.sleep(500);
    return rss();
  }

  /**
   * What the JVM holds after the last GC: its committed native memory (Native Memory Tracking, the
   * node runs with {@code -XX:NativeMemoryTracking=summary}) with the heap counted at what is in use
   * rather than what is committed.
   */
  private long held() throws Exception {
    String nmt = jcmd("VM.native_memory summary");
    String heap = jcmd("GC.heap_info");
    long committed = kib(nmt, "Total: reserved=\\d+KB, committed=(\\d+)KB");
    long heapCommitted = kib(nmt, "Java Heap \\(reserved=\\d+KB, committed=(\\d+)KB");
    // JDK 17: "total 40960K, used 13521K"; JDK 25: "total reserved 6172672K, committed 40960K, used 13521K"
    long heapUsed = kib(heap, "(?:total|committed) \\d+K, used (\\d+)K");
    return committed - heapCommitted + heapUsed;
  }

  private static long kib(String text, String regex) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile(regex).matcher(text);
    if (!m.find()) {
      throw new IllegalStateException("no " + regex + " in " + text);
    }
    return Long.parseLong(m.group(1)) * 1024;
  }

  private String jcmd(String command) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("jcmd", Long.toString(pid)));
    cmd.addAll(Arrays.asList(command.split(" ")));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("jcmd " + pid + " " + command + " failed: " + out);
    }
    return out;
  }

  // ------------------------------------------------------------------ the attacks

  private abstract class Attack {
    final List<RawHttp> sockets = new CopyOnWriteArrayList<>();
    final List<NioSwarm> swarms = new ArrayList<>();
    final List<Thread> threads = new ArrayList<>();
    final AtomicBoolean running = new AtomicBoolean(true);
    final Map<String, AtomicLong> counts = Collections.synchronizedMap(new LinkedHashMap<>());

    void prepare() throws Exception {}

    abstract String describe();

    abstract void start() throws Exception;

    /** Called about once a second while the attack runs. */
    void tick() {}

    String outcome() {
      return describe() + (counts.isEmpty() ? "" : "; " + counts);
    }

    void count(String what) {
      counts.computeIfAbsent(what, k -> new AtomicLong()).incrementAndGet();
    }

    void thread(String name, Runnable body) {
      Thread t = new Thread(() -> {
        try {
          body.run();
        } catch (RuntimeException stopped) {
          if (running.get()) {
            count("abuser failed: " + stopped);
          }
        }
      }, name);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }

    RawHttp open(String from) {
      RawHttp c = new RawHttp(url, from);
      sockets.add(c);
      return c;
    }

    NioSwarm swarm(String[] from, int connections, String request) throws IOException {
      URI uri = URI.create(url);
      NioSwarm s = new NioSwarm(new InetSocketAddress(uri.getHost(), uri.getPort()), from, connections, request,
          "swarm-" + swarms.size());
      swarms.add(s);
      return s;
    }

    void stop() throws InterruptedException {
      running.set(false);
      sockets.forEach(RawHttp::close);
      for (NioSwarm s : swarms) {
        try {
          s.close();
        } catch (IOException e) {
          // closing anyway
        }
      }
      for (Thread t : threads) {
        t.join(10_000);
      }
    }
  }

  private Attack attack(String name) {
    return switch (name) {
      case "none" -> new Attack() {
        @Override
        String describe() {
          return "nothing (baseline)";
        }

        @Override
        void start() {}
      };
      case "quadratic" -> new Quadratic();
      case "no-read" -> new NoRead();
      case "flood" -> new Flood();
      case "unfinished" -> new Unfinished();
      case "fan-out" -> new FanOut();
      case "write-flood" -> new WriteFlood();
      case "listing" -> new Listing();
      default -> throw new IllegalArgumentException("unknown attack " + name);
    };
  }

  private static String post(String target, int length) {
    return "POST " + target + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + FORM + "\r\nContent-Length: " + length
        + "\r\n\r\n";
  }

  /** 4 connections sending 2 MiB bodies of {@code a&a&a&...} one after the other. */
  private final class Quadratic extends Attack {
    @Override
    String describe() {
      return "4 conns, 2 MiB form bodies of empty pairs back to back";
    }

    @Override
    void start() {
      byte[] flood = "a&".repeat(MiB).getBytes(StandardCharsets.US_ASCII);
      for (int t = 0; t < 4; t++) {
        thread("quadratic-" + t, () -> {
          RawHttp c = open("127.0.0.2");
          while (running.get()) {
            c.send(post("/v1/keys/bench/quadratic", flood.length));
            c.send(flood);
            count(c.read().status() + "");
          }
        });
      }
    }
  }

  /** 4 connections each pipelining 600 GETs of a 1 MiB value and never reading. */
  private final class NoRead extends Attack {
    @Override
    void prepare() throws Exception {
      put("/v1/keys/bench/big", "b".repeat(MiB));
    }

    @Override
    String describe() {
      return "4 conns × 600 pipelined GETs of a 1 MiB value, never read";
    }

    @Override
    void start() {
      for (int t = 0; t < 4; t++) {
        RawHttp c = open("127.0.0.2");
        c.send("GET /v1/keys/bench/big HTTP/1.1\r\nHost: x\r\n\r\n".repeat(600));
      }
    }
  }

  /** One address opening connections as fast as it can, up to 10 050, sending nothing. */
  private final class Flood extends Attack {
    @Override
    String describe() {
      return "1 address opening up to 10 050 idle conns, reopening closed ones";
    }

    @Override
    void start() {
      thread("flood", () -> {
        while (running.get()) {
          sockets.removeIf(c -> {
            if (c.answeredOrClosed()) {
              c.close();
              count("closed by the node");
              return true;
            }
            return false;
          });
          while (running.get() && sockets.size() < 10_050) {
            try {
              open("127.0.0.2");
              count("opened");
            } catch (UncheckedIOException refused) {
              count("connect failed");
              break;
            }
          }
          sleepQuietly(5_000);
        }
      });
    }
  }

  /** 150 connections each sending most of a 2 MiB body, then nothing; replaced when closed. */
  private final class Unfinished extends Attack {
    @Override
    String describe() {
      return "150 conns each sending 1.9 of 2 MiB of body, then stalling";
    }

    @Override
    void start() {
      byte[] most = new byte[2 * MiB - 100_000];
      Arrays.fill(most, (byte) 'u');
      System.arraycopy("value=".getBytes(StandardCharsets.US_ASCII), 0, most, 0, 6);
      thread("unfinished", () -> {
        List<RawHttp> mine = new ArrayList<>();
        while (running.get()) {
          mine.removeIf(c -> {
            if (c.answeredOrClosed()) {
              c.close();
              count("closed by the node");
              return true;
            }
            return false;
          });
          while (running.get() && mine.size() < 150) {
            RawHttp c = open("127.0.0.2");
            c.send(post("/v1/keys/bench/unfinished", 2 * MiB));
            RawHttp.Response early = c.tryRead(50);
            if (early != null) {
              count(early.status() + " before the body");
              c.close();
              sleepQuietly(20);
              continue;
            }
            c.send(most);
            mine.add(c);
            count("bodies sent");
          }
          sleepQuietly(100);
        }
      });
    }
  }

  /**
   * 2 000 watchers on ten addresses (one client thread for all of them), and a 500 KB write to their
   * prefix every 5 s: each write sends 1 GB to the watchers. The write's answer is timed.
   */
  private final class FanOut extends Attack {
    private final Latencies acks = new Latencies();
    private NioSwarm watchers;

    @Override
    String describe() {
      return "2 000 watchers (10 addresses), a 500 KB write to their prefix every 5 s";
    }

    @Override
    void start() throws Exception {
      String[] hosts = new String[10];
      for (int i = 0; i < 10; i++) {
        hosts[i] = "127.0.1." + (i + 1);
      }
      watchers = swarm(hosts, 2_000, "GET /v1/watch/bench/fan HTTP/1.1\r\nHost: x\r\n\r\n");
      Thread.sleep(2_000); // let the watchers register before the first write
      String value = "f".repeat(500_000);
      thread("fan-writer", () -> {
        while (running.get()) {
          long t0 = System.nanoTime();
          try {
            put("/v1/keys/bench/fan/k", value);
            synchronized (acks) {
              acks.add(System.nanoTime() - t0);
            }
          } catch (IOException e) {
            count("write failed");
          }
          sleepQuietly(5_000);
        }
      });
    }

    @Override
    String outcome() {
      synchronized (acks) {
        return describe() + "; watch answers " + watchers.statuses + ", " + watchers.bodyBytes.get() / MiB
            + " MiB delivered; the write answered in p50 / p99 / max " + acks.summary() + " ms";
      }
    }
  }

  /** 1 500 connections (one client thread) writing back to back: 503 past the write queue's bounds. */
  private final class WriteFlood extends Attack {
    private NioSwarm writers;

    @Override
    String describe() {
      return "1 500 conns from 2 addresses, each PUTting back to back";
    }

    @Override
    void start() throws IOException {
      String body = "value=flood";
      writers = swarm(new String[] {"127.0.0.2", "127.0.0.3"}, Integer.getInteger("flood.conns", 1_500), "PUT /v1/keys/bench/flood HTTP/1.1\r\nHost: x"
          + "\r\nContent-Type: " + FORM + "\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
    }

    @Override
    String outcome() {
      return describe() + "; answers " + writers.statuses;
    }
  }

  /** A 20 MB directory listing, pipelined 20 times on 8 connections that never read. */
  private final class Listing extends Attack {
    @Override
    void prepare() throws Exception {
      String value = "l".repeat(10_000);
      for (int i = 0; i < 2_000; i++) {
        put("/v1/keys/bench/huge/k" + i, value);
      }
    }

    @Override
    String describe() {
      return "8 conns × 20 pipelined GETs of a 20 MB listing (2 000 keys), never read";
    }

    @Override
    void start() {
      for (int t = 0; t < 8; t++) {
        RawHttp c = open("127.0.0.2");
        c.send("GET /v1/keys/bench/huge HTTP/1.1\r\nHost: x\r\n\r\n".repeat(20));
      }
    }
  }

  // ------------------------------------------------------------------ helpers

  private void put(String target, String value) throws IOException {
    String body = "value=" + URLEncoder.encode(value, StandardCharsets.UTF_8);
    try (RawHttp c = new RawHttp(url, "127.0.0.1")) {
      c.setReadTimeout(30_000);
      c.send("PUT " + target + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + FORM + "\r\nContent-Length: " + body.length()
          + "\r\n\r\n" + body);
      RawHttp.Response r = c.read();
      if (r.status() != 200) {
        throw new IOException("PUT " + target + ": " + r.status() + " " + r.body());
      }
    }
  }

  private static void sleepQuietly(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void progress(String what) {
    System.err.printf("[%tT] %s%n", System.currentTimeMillis(), what);
  }
}
