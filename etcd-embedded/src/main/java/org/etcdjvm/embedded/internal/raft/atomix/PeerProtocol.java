package org.etcdjvm.embedded.internal.raft.atomix;

import io.atomix.cluster.messaging.MessagingService;
import io.atomix.utils.net.Address;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;
import org.etcdjvm.embedded.internal.raft.MembershipPlan.PeerStatus;

/**
 * Our own requests between members, next to Atomix's Raft traffic on the same peer port: who are
 * you and which cluster are you in (at start, before a member bootstraps or joins), remove a member
 * (sent to the leader), and you were removed (sent to the removed member). Encoded by hand in a
 * small versioned binary format, so that Atomix's Kryo never sees our types.
 */
final class PeerProtocol {
  static final String STATUS = "etcdjvm-status";
  static final String REMOVE = "etcdjvm-remove";
  static final String REMOVED = "etcdjvm-removed";
  private static final int FORMAT = 1;

  private final MessagingService messaging;
  private final Duration timeout;

  PeerProtocol(MessagingService messaging, Duration timeout) {
    this.messaging = messaging;
    this.timeout = timeout;
  }

  /** Answers status requests with {@code status}. */
  void serveStatus(Supplier<PeerStatus> status) {
    messaging.registerHandler(STATUS, (Address from, byte[] request) -> CompletableFuture.completedFuture(encode(status.get())));
  }

  /** Serves remove requests: {@code remove} takes a peer address and completes with null or an error message. */
  void serveRemove(Function<String, CompletableFuture<String>> remove) {
    messaging.registerHandler(REMOVE, (Address from, byte[] request) ->
        remove.apply(new String(request, StandardCharsets.UTF_8))
            .exceptionally(e -> String.valueOf(e.getCause() != null ? e.getCause().getMessage() : e.getMessage()))
            .thenApply(error -> (error == null ? "" : "!" + error).getBytes(StandardCharsets.UTF_8)));
  }

  /** Serves removal notices: {@code onRemoved} gets the sender's address. */
  void serveRemoved(java.util.function.Consumer<String> onRemoved) {
    messaging.registerHandler(REMOVED, (Address from, byte[] request) -> {
      onRemoved.accept(new String(request, StandardCharsets.UTF_8));
      return CompletableFuture.completedFuture(new byte[0]);
    });
  }

  CompletableFuture<PeerStatus> status(String peer) {
    return messaging.sendAndReceive(Address.from(peer), STATUS, new byte[] {FORMAT}, timeout)
        .thenApply(PeerProtocol::decode);
  }

  /** Asks {@code leader} to remove {@code peer}; completes exceptionally with the leader's message if it refused. */
  CompletableFuture<Void> remove(String leader, String peer, Duration timeout) {
    return messaging.sendAndReceive(Address.from(leader), REMOVE, peer.getBytes(StandardCharsets.UTF_8), timeout)
        .thenApply(reply -> {
          String text = new String(reply, StandardCharsets.UTF_8);
          if (text.startsWith("!")) {
            throw new IllegalStateException(text.substring(1));
          }
          return null;
        });
  }

  /** Tells {@code peer} that it was removed, naming the sender; best effort. */
  CompletableFuture<Void> notifyRemoved(String peer, String self) {
    return messaging.sendAndReceive(Address.from(peer), REMOVED, self.getBytes(StandardCharsets.UTF_8), timeout)
        .thenApply(reply -> null);
  }

  static byte[] encode(PeerStatus s) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(FORMAT);
      out.writeUTF(s.peer());
      out.writeUTF(s.name());
      out.writeBoolean(s.member());
      writeNullable(out, s.clusterId());
      writeList(out, s.members());
      out.writeLong(s.configIndex());
      writeNullable(out, s.leader());
      out.writeInt(s.maxSize());
      out.writeInt(s.names().size());
      for (Map.Entry<String, String> e : s.names().entrySet()) {
        out.writeUTF(e.getKey());
        out.writeUTF(e.getValue());
      }
      writeList(out, s.intended());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static PeerStatus decode(byte[] bytes) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      int format = in.readByte();
      if (format != FORMAT) {
        throw new IllegalArgumentException("unknown status format " + format);
      }
      String peer = in.readUTF();
      String name = in.readUTF();
      boolean member = in.readBoolean();
      String clusterId = readNullable(in);
      List<String> members = readList(in);
      long configIndex = in.readLong();
      String leader = readNullable(in);
      int maxSize = in.readInt();
      int names = in.readInt();
      Map<String, String> registered = new LinkedHashMap<>();
      for (int i = 0; i < names; i++) {
        registered.put(in.readUTF(), in.readUTF());
      }
      List<String> intended = readList(in);
      return new PeerStatus(peer, name, member, clusterId, members, configIndex, leader, maxSize, registered, intended);
    } catch (IOException e) {
      throw new IllegalArgumentException("malformed status answer: " + e, e);
    }
  }

  private static void writeNullable(DataOutputStream out, String s) throws IOException {
    out.writeBoolean(s != null);
    if (s != null) {
      out.writeUTF(s);
    }
  }

  private static String readNullable(DataInputStream in) throws IOException {
    return in.readBoolean() ? in.readUTF() : null;
  }

  private static void writeList(DataOutputStream out, List<String> list) throws IOException {
    out.writeInt(list.size());
    for (String s : list) {
      out.writeUTF(s);
    }
  }

  private static List<String> readList(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > 10_000) {
      throw new IOException("bad list length " + n);
    }
    List<String> list = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      list.add(in.readUTF());
    }
    return list;
  }
}
