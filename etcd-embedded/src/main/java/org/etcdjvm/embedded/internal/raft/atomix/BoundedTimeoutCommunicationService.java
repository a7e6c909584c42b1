package org.etcdjvm.embedded.internal.raft.atomix;

import io.atomix.cluster.MemberId;
import io.atomix.cluster.messaging.ClusterCommunicationService;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Gives every Raft request a bounded reply timeout.
 *
 * <p>Atomix's Raft communicators call {@code send(...)} without a timeout, which means the messaging
 * service's fixed 5 s: a request caught on a hung or unreachable leader then parks for 5 s before
 * the sender tries the next member. Forwarding each such call with our own (shorter) timeout cuts
 * that wait to the timeout. (A leader killed outright closes its connections, and Atomix fails the
 * requests pending on them at once.) Everything else is passed through unchanged.
 */
class BoundedTimeoutCommunicationService extends ForwardingCommunicationService {
  private final Duration timeout;

  BoundedTimeoutCommunicationService(ClusterCommunicationService delegate, Duration timeout) {
    super(delegate);
    this.timeout = timeout;
  }

  @Override
  public <M, R> CompletableFuture<R> send(String subject, M message, Function<M, byte[]> encoder,
      Function<byte[], R> decoder, MemberId toMemberId, Duration timeout) {
    return delegate.send(subject, message, encoder, decoder, toMemberId, timeout != null ? timeout : this.timeout);
  }
}
