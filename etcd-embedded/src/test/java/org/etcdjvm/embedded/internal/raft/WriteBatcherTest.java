package org.etcdjvm.embedded.internal.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.etcdjvm.embedded.internal.store.Action;
import org.etcdjvm.embedded.internal.store.Event;
import org.etcdjvm.embedded.internal.store.Outcome;
import org.etcdjvm.embedded.internal.store.SetOp;
import org.etcdjvm.embedded.internal.store.WriteCodec;
import org.etcdjvm.embedded.internal.store.WriteOp;
import org.junit.jupiter.api.Test;

/** The batcher against a fake Raft group whose commands the test completes by hand. */
class WriteBatcherTest {

  /** Commands as the batcher sends them; each stays in flight until {@link #commit} or {@link #fail}. */
  private static final class FakeGroup {
    final BlockingQueue<Sent> sent = new LinkedBlockingQueue<>();
    final AtomicInteger inFlight = new AtomicInteger();
    volatile int maxInFlight;

    record Sent(List<WriteOp> ops, CompletableFuture<byte[]> result) {
      List<String> keys() {
        return ops.stream().map(WriteOp::key).toList();
      }
    }

    CompletableFuture<byte[]> execute(byte[] command) {
      maxInFlight = Math.max(maxInFlight, inFlight.incrementAndGet());
      CompletableFuture<byte[]> result = new CompletableFuture<>();
      sent.add(new Sent(WriteCodec.decodeCommand(command).ops(), result));
      return result;
    }

    Sent next() throws InterruptedException {
      Sent s = sent.poll(5, TimeUnit.SECONDS);
      assertThat(s).as("a command sent").isNotNull();
      return s;
    }

    /** Applies every write of {@code s}; its completion sends the next command, if any. */
    void commit(Sent s) {
      List<Outcome> outcomes = new ArrayList<>();
      for (WriteOp op : s.ops) {
        outcomes.add(new Outcome.Applied(new Event(Action.SET, op.key(), false, null, "v", true, null, 1)));
      }
      inFlight.decrementAndGet();
      s.result.complete(WriteCodec.encodeOutcomes(outcomes));
    }

    void fail(Sent s, Exception e) {
      inFlight.decrementAndGet();
      s.result.completeExceptionally(e);
    }
  }

  private final FakeGroup group = new FakeGroup();

  private WriteBatcher batcher(int maxOps, long maxChars) {
    return new WriteBatcher(group::execute, new LogClock(), () -> true, maxOps, maxChars, 5_000);
  }

  private static SetOp set(String key) {
    return new SetOp(key, "v", null, null, false);
  }

  @Test
  void aLightClientsWriteLeavesInTheNextBatchNotBehindAHeavyClientsQueue() throws Exception {
    WriteBatcher batcher = batcher(256, 1 << 20);
    CompletableFuture<Event> first = batcher.submit(set("/heavy/0"), "heavy");
    FakeGroup.Sent inFlight = group.next();
    List<CompletableFuture<Event>> heavy = new ArrayList<>();
    for (int i = 1; i <= 600; i++) {
      heavy.add(batcher.submit(set("/heavy/" + i), "heavy"));
    }
    CompletableFuture<Event> light = batcher.submit(set("/light"), "light");

    group.commit(inFlight);
    FakeGroup.Sent next = group.next();
    assertThat(next.keys()).hasSize(256).contains("/light");
    group.commit(next);
    assertThat(light.get(5, TimeUnit.SECONDS).key()).isEqualTo("/light");
    assertThat(first).isCompleted();
    while (!heavy.get(heavy.size() - 1).isDone()) {
      group.commit(group.next());
    }
    for (CompletableFuture<Event> h : heavy) {
      assertThat(h).isCompleted();
    }
  }

  @Test
  void batchesTakeClientsInTurnAndKeepEachClientsOrder() throws Exception {
    WriteBatcher batcher = batcher(256, 1 << 20);
    batcher.submit(set("/first"), null);
    FakeGroup.Sent inFlight = group.next();
    for (int i = 0; i < 3; i++) {
      batcher.submit(set("/a/" + i), "a");
    }
    for (int i = 0; i < 2; i++) {
      batcher.submit(set("/b/" + i), "b");
    }
    batcher.submit(set("/in-process"), null);

    group.commit(inFlight);
    assertThat(group.next().keys()).containsExactly("/a/0", "/b/0", "/in-process", "/a/1", "/b/1", "/a/2");
  }

  @Test
  void aBatchStopsAtItsLimitsAndTheRestLeavesNext() throws Exception {
    WriteBatcher byCount = batcher(4, 1 << 20);
    byCount.submit(set("/first"), "a");
    FakeGroup.Sent inFlight = group.next();
    for (int i = 0; i < 6; i++) {
      byCount.submit(set("/a/" + i), "a");
    }
    byCount.submit(set("/b/0"), "b");
    group.commit(inFlight);
    FakeGroup.Sent second = group.next();
    assertThat(second.keys()).containsExactly("/a/0", "/b/0", "/a/1", "/a/2");
    group.commit(second);
    assertThat(group.next().keys()).containsExactly("/a/3", "/a/4", "/a/5");

    // A write counts 16 chars plus its key and value: 3 writes of 19 chars fit in 60, 4 do not.
    FakeGroup chars = new FakeGroup();
    WriteBatcher byChars = new WriteBatcher(chars::execute, new LogClock(), () -> true, 256, 60, 5_000);
    byChars.submit(set("/x"), "a");
    inFlight = chars.next();
    for (int i = 0; i < 4; i++) {
      byChars.submit(set("/" + i), "client-" + i);
    }
    chars.commit(inFlight);
    assertThat(chars.next().keys()).containsExactly("/0", "/1", "/2");
  }

  @Test
  void aWriteOverTheCharLimitStillLeavesAlone() throws Exception {
    WriteBatcher batcher = batcher(256, 10);
    CompletableFuture<Event> big = batcher.submit(set("/" + "k".repeat(100)), "a");
    group.commit(group.next());
    assertThat(big.get(5, TimeUnit.SECONDS)).isNotNull();
  }

  @Test
  void closingFailsTheWaitingWritesAndRefusesNewOnes() throws Exception {
    WriteBatcher batcher = batcher(256, 1 << 20);
    CompletableFuture<Event> inFlightWrite = batcher.submit(set("/first"), "a");
    FakeGroup.Sent inFlight = group.next();
    CompletableFuture<Event> waitingA = batcher.submit(set("/a"), "a");
    CompletableFuture<Event> waitingB = batcher.submit(set("/b"), "b");

    batcher.close();
    assertThatThrownBy(() -> waitingA.get(1, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> waitingB.get(1, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> batcher.submit(set("/late"), "c").get(1, TimeUnit.SECONDS))
        .hasCauseInstanceOf(IllegalStateException.class);

    group.commit(inFlight); // the command in flight completes as it will
    assertThat(inFlightWrite.get(1, TimeUnit.SECONDS).key()).isEqualTo("/first");
    assertThat(group.sent.poll(200, TimeUnit.MILLISECONDS)).as("nothing sent after close").isNull();
  }

  @Test
  void aFailedCommandFailsItsWritesAndTheNextBatchStillLeaves() throws Exception {
    WriteBatcher batcher = batcher(256, 1 << 20);
    CompletableFuture<Event> lost = batcher.submit(set("/lost"), "a");
    FakeGroup.Sent inFlight = group.next();
    CompletableFuture<Event> next = batcher.submit(set("/next"), "a");
    group.fail(inFlight, new TimeoutException("commit"));
    assertThatThrownBy(() -> lost.get(1, TimeUnit.SECONDS)).hasCauseInstanceOf(TimeoutException.class);
    group.commit(group.next());
    assertThat(next.get(1, TimeUnit.SECONDS).key()).isEqualTo("/next");
  }

  @Test
  void aTickIsAnEmptyCommandAndCoalescesWithWrites() throws Exception {
    WriteBatcher batcher = batcher(256, 1 << 20);
    batcher.tick();
    FakeGroup.Sent tick = group.next();
    assertThat(tick.ops()).isEmpty();
    batcher.submit(set("/a"), "a");
    batcher.tick();
    group.commit(tick);
    assertThat(group.next().keys()).containsExactly("/a");
    assertThat(group.sent.poll(100, TimeUnit.MILLISECONDS)).isNull();
  }

  @Test
  void concurrentClientsAllCompleteInTheirOwnOrderWithOneCommandInFlight() throws Exception {
    WriteBatcher batcher = batcher(16, 1 << 20);
    int clients = 6;
    int perClient = 3_000;
    // The "Raft group": commits every command on another thread, in order.
    ExecutorService committer = Executors.newSingleThreadExecutor();
    Map<String, List<Integer>> seen = new HashMap<>();
    Thread raft = new Thread(() -> {
      try {
        while (!Thread.currentThread().isInterrupted()) {
          FakeGroup.Sent s = group.sent.poll(10, TimeUnit.MILLISECONDS);
          if (s == null) {
            continue;
          }
          for (String key : s.keys()) {
            String[] parts = key.split("/"); // "/client-N/i"
            seen.computeIfAbsent(parts[1], k -> new ArrayList<>()).add(Integer.parseInt(parts[2]));
          }
          committer.execute(() -> group.commit(s));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    raft.start();
    ExecutorService producers = Executors.newFixedThreadPool(clients);
    CountDownLatch start = new CountDownLatch(1);
    List<CompletableFuture<Event>> all = java.util.Collections.synchronizedList(new ArrayList<>());
    List<java.util.concurrent.Future<?>> done = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      String client = "client-" + c;
      // Now and then a client waits for its write: its queue runs dry and is dropped, then comes back.
      done.add(producers.submit(() -> {
        start.await();
        for (int i = 0; i < perClient; i++) {
          CompletableFuture<Event> f = batcher.submit(set("/" + client + "/" + i), client);
          all.add(f);
          if (i % 100 == 0) {
            f.get(5, TimeUnit.SECONDS); // let the lane run dry now and then
          }
        }
        return null;
      }));
    }
    start.countDown();
    for (java.util.concurrent.Future<?> f : done) {
      f.get(60, TimeUnit.SECONDS);
    }
    for (CompletableFuture<Event> f : all) {
      f.get(10, TimeUnit.SECONDS);
    }
    raft.interrupt();
    raft.join();
    committer.shutdown();
    producers.shutdown();

    assertThat(group.maxInFlight).isEqualTo(1);
    assertThat(seen).hasSize(clients);
    for (List<Integer> order : seen.values()) {
      assertThat(order).hasSize(perClient).isSorted();
    }
  }

  @Test
  void aWriteThatTimedOutWhileWaitingIsNotSent() throws Exception {
    WriteBatcher batcher = new WriteBatcher(group::execute, new LogClock(), () -> true, 256, 1 << 20, 100);
    batcher.submit(set("/first"), "a");
    FakeGroup.Sent inFlight = group.next();
    CompletableFuture<Event> late = batcher.submit(set("/late"), "b");
    assertThatThrownBy(() -> late.get(2, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(TimeoutException.class);
    group.commit(inFlight);
    assertThat(group.sent.poll(200, TimeUnit.MILLISECONDS)).isNull();
  }
}
