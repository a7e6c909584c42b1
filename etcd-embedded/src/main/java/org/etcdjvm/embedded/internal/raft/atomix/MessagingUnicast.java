package org.etcdjvm.embedded.internal.raft.atomix;

import io.atomix.cluster.messaging.ManagedUnicastService;
import io.atomix.cluster.messaging.MessagingService;
import io.atomix.cluster.messaging.UnicastService;
import io.atomix.utils.net.Address;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Atomix's unicast service carried by the messaging service (TCP, and so TLS when messaging has
 * it), for a cluster whose peer traffic must be authenticated. Atomix 3.1.12's own {@code
 * NettyUnicastService} listens for UDP datagrams on the peer port and hands anyone's to its
 * listeners — the SWIM membership protocol's gossip, which can mark the leader as gone (a
 * follower then drops it and polls) or a member as gone (the leader then expires its sessions).
 * This one opens no socket of its own; a datagram's subject becomes the messaging subject
 * {@code etcdjvm-unicast/<subject>}, and delivery stays best-effort (failures are dropped, as a
 * lost datagram would be).
 *
 * <p>Thread-safe.
 */
final class MessagingUnicast implements ManagedUnicastService {
  private static final Logger log = LoggerFactory.getLogger(MessagingUnicast.class);
  static final String PREFIX = "etcdjvm-unicast/";

  private final MessagingService messaging;
  private final Map<String, Map<BiConsumer<Address, byte[]>, Executor>> listeners = new ConcurrentHashMap<>();
  private volatile boolean running;

  MessagingUnicast(MessagingService messaging) {
    this.messaging = messaging;
  }

  @Override
  public void unicast(Address address, String subject, byte[] message) {
    messaging.sendAsync(address, PREFIX + subject, message).whenComplete((v, e) -> {
      if (e != null) {
        log.trace("unicast {} to {} failed: {}", subject, address, e.toString());
      }
    });
  }

  @Override
  public synchronized void addListener(String subject, BiConsumer<Address, byte[]> listener, Executor executor) {
    Map<BiConsumer<Address, byte[]>, Executor> forSubject = listeners.get(subject);
    if (forSubject == null) {
      Map<BiConsumer<Address, byte[]>, Executor> created = new ConcurrentHashMap<>();
      listeners.put(subject, created);
      messaging.registerHandler(PREFIX + subject, (Address from, byte[] payload) ->
          created.forEach((l, e) -> e.execute(() -> l.accept(from, payload))), Runnable::run);
      forSubject = created;
    }
    forSubject.put(listener, executor);
  }

  @Override
  public synchronized void removeListener(String subject, BiConsumer<Address, byte[]> listener) {
    Map<BiConsumer<Address, byte[]>, Executor> forSubject = listeners.get(subject);
    if (forSubject != null) {
      forSubject.remove(listener);
      if (forSubject.isEmpty()) {
        listeners.remove(subject);
        messaging.unregisterHandler(PREFIX + subject);
      }
    }
  }

  @Override
  public CompletableFuture<UnicastService> start() {
    running = true;
    return CompletableFuture.completedFuture(this);
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  @Override
  public CompletableFuture<Void> stop() {
    running = false;
    return CompletableFuture.completedFuture(null);
  }
}
