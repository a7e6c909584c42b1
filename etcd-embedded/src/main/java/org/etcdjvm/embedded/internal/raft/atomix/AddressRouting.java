package org.etcdjvm.embedded.internal.raft.atomix;

import io.atomix.cluster.MemberId;
import io.atomix.cluster.messaging.ClusterCommunicationService;
import io.atomix.cluster.messaging.MessagingService;
import io.atomix.utils.net.Address;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Sends to a member at the address its id names. Our member ids are peer addresses
 * ({@code host:port}), so a member that joined at runtime is reachable at once, before (or without)
 * Atomix's membership protocol discovering it: Atomix 3.1.12's {@code DefaultClusterCommunicationService}
 * looks every recipient up in the membership service and fails with "connection refused" for a
 * member it has not discovered, and its discovery only knows the bootstrap nodes given at start.
 * Subscriptions go to the wrapped service unchanged (they register on the same messaging service).
 */
final class AddressRouting extends ForwardingCommunicationService {
  private final MessagingService messaging;

  AddressRouting(ClusterCommunicationService delegate, MessagingService messaging) {
    super(delegate);
    this.messaging = messaging;
  }

  static Address address(MemberId member) {
    return Address.from(member.id());
  }

  @Override
  public <M, R> CompletableFuture<R> send(String subject, M message, Function<M, byte[]> encoder,
      Function<byte[], R> decoder, MemberId toMemberId, Duration timeout) {
    try {
      byte[] payload = encoder.apply(message);
      CompletableFuture<byte[]> reply = timeout == null
          ? messaging.sendAndReceive(address(toMemberId), subject, payload)
          : messaging.sendAndReceive(address(toMemberId), subject, payload, timeout);
      return reply.thenApply(decoder);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public <M> CompletableFuture<Void> unicast(String subject, M message, Function<M, byte[]> encoder,
      MemberId toMemberId, boolean reliable) {
    try {
      return messaging.sendAsync(address(toMemberId), subject, encoder.apply(message));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public <M> void multicast(String subject, M message, Function<M, byte[]> encoder, Set<MemberId> memberIds,
      boolean reliable) {
    byte[] payload = encoder.apply(message);
    for (MemberId member : memberIds) {
      messaging.sendAsync(address(member), subject, payload);
    }
  }
}
