package org.etcdjvm.embedded.internal.raft;

import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A Raft group of one member, in memory: every command is "committed" at once and applied on one
 * thread, in submission order, with the given clock's time as the log's time. Lets the write path
 * (batching, TTL ticks, the member registry) and HTTP tests run without Atomix.
 */
final class InMemoryRaftGroup implements RaftGroup {
  private final String self;
  private final ReplicatedState state;
  private final Clock clock;
  private final ExecutorService applier = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "in-memory-raft");
    t.setDaemon(true);
    return t;
  });
  private final CompletableFuture<String> stopped = new CompletableFuture<>();
  volatile int commands;

  InMemoryRaftGroup(String self, ReplicatedState state, Clock clock) {
    this.self = self;
    this.state = state;
    this.clock = clock;
  }

  @Override
  public CompletableFuture<Void> start() {
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public CompletableFuture<byte[]> execute(byte[] command) {
    return CompletableFuture.supplyAsync(() -> {
      commands++;
      return state.apply(command, clock.instant());
    }, applier);
  }

  @Override
  public CompletableFuture<Void> readBarrier() {
    return CompletableFuture.runAsync(() -> { }, applier); // after every command submitted before it
  }

  @Override
  public String self() {
    return self;
  }

  @Override
  public boolean isLeader() {
    return true;
  }

  @Override
  public Optional<String> leader() {
    return Optional.of(self);
  }

  @Override
  public List<String> members() {
    return List.of(self);
  }

  @Override
  public CompletableFuture<Void> remove(String peerAddress) {
    return CompletableFuture.failedFuture(new IllegalStateException("cannot remove the last member of the cluster"));
  }

  @Override
  public CompletableFuture<String> stopped() {
    return stopped;
  }

  @Override
  public CompletableFuture<Void> compact() {
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public String waitingFor() {
    return "nothing";
  }

  @Override
  public void close() {
    applier.shutdownNow();
  }
}
