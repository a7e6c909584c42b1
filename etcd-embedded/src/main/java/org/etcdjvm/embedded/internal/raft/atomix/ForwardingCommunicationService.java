package org.etcdjvm.embedded.internal.raft.atomix;

import io.atomix.cluster.MemberId;
import io.atomix.cluster.messaging.ClusterCommunicationService;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A {@link ClusterCommunicationService} that passes every call on to another one; subclasses
 * change what they need. The decorators in this package sit between Atomix's Raft communicators
 * and the cluster's messaging, which is the one seam Atomix's public API offers for shaping Raft
 * traffic (timeouts, routing, ordering at start).
 */
abstract class ForwardingCommunicationService implements ClusterCommunicationService {
  protected final ClusterCommunicationService delegate;

  ForwardingCommunicationService(ClusterCommunicationService delegate) {
    this.delegate = delegate;
  }

  @Override
  public <M, R> CompletableFuture<R> send(String subject, M message, Function<M, byte[]> encoder,
      Function<byte[], R> decoder, MemberId toMemberId, Duration timeout) {
    return delegate.send(subject, message, encoder, decoder, toMemberId, timeout);
  }

  @Override
  public <M> void broadcast(String subject, M message, Function<M, byte[]> encoder, boolean reliable) {
    delegate.broadcast(subject, message, encoder, reliable);
  }

  @Override
  public <M> void broadcastIncludeSelf(String subject, M message, Function<M, byte[]> encoder, boolean reliable) {
    delegate.broadcastIncludeSelf(subject, message, encoder, reliable);
  }

  @Override
  public <M> CompletableFuture<Void> unicast(String subject, M message, Function<M, byte[]> encoder,
      MemberId toMemberId, boolean reliable) {
    return delegate.unicast(subject, message, encoder, toMemberId, reliable);
  }

  @Override
  public <M> void multicast(String subject, M message, Function<M, byte[]> encoder, Set<MemberId> memberIds,
      boolean reliable) {
    delegate.multicast(subject, message, encoder, memberIds, reliable);
  }

  @Override
  public <M, R> CompletableFuture<Void> subscribe(String subject, Function<byte[], M> decoder,
      Function<M, R> handler, Function<R, byte[]> encoder, Executor executor) {
    return delegate.subscribe(subject, decoder, handler, encoder, executor);
  }

  @Override
  public <M, R> CompletableFuture<Void> subscribe(String subject, Function<byte[], M> decoder,
      Function<M, CompletableFuture<R>> handler, Function<R, byte[]> encoder) {
    return delegate.subscribe(subject, decoder, handler, encoder);
  }

  @Override
  public <M> CompletableFuture<Void> subscribe(String subject, Function<byte[], M> decoder, Consumer<M> handler,
      Executor executor) {
    return delegate.subscribe(subject, decoder, handler, executor);
  }

  @Override
  public <M> CompletableFuture<Void> subscribe(String subject, Function<byte[], M> decoder,
      BiConsumer<MemberId, M> handler, Executor executor) {
    return delegate.subscribe(subject, decoder, handler, executor);
  }

  @Override
  public void unsubscribe(String subject) {
    delegate.unsubscribe(subject);
  }
}
