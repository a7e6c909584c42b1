package org.etcdjvm.embedded.internal.http;

import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.etcdjvm.embedded.internal.raft.MemberInfo;
import org.etcdjvm.embedded.internal.raft.Replica;
import org.etcdjvm.embedded.internal.store.EtcdError;

/**
 * The small endpoints: {@code /v1/leader}, {@code /v1/machines}, {@code /v1/stats/*} and
 * {@code /version}. Like Go's handlers in etcd 0.1.2 they answer any method. Thread-safe.
 */
final class ClusterRoutes {
  static final String VERSION = "etcd v0.1.2";

  private final Replica replica;
  private final StoreStats stats;

  ClusterRoutes(Replica replica, StoreStats stats) {
    this.replica = replica;
    this.stats = stats;
  }

  /** The leader's peer URL as text, or error 301 (HTTP 500) during an election. */
  void leader(Exchange exchange) {
    Optional<MemberInfo> leader = replica.leader();
    if (leader.isEmpty()) {
      exchange.respondError(EtcdError.LEADER_ELECTION, null);
      return;
    }
    exchange.respondText(leader.get().peerUrl());
  }

  /** The client URLs: leader first, then this member, then the rest by name; {@code ", "} between. */
  void machines(Exchange exchange) {
    exchange.respondText(machines(replica.leader(), replica.self(), replica.members()));
  }

  static String machines(Optional<MemberInfo> leader, MemberInfo self, List<MemberInfo> members) {
    List<MemberInfo> ordered = new ArrayList<>(members.size() + 2);
    leader.ifPresent(ordered::add);
    ordered.add(self);
    List<MemberInfo> others = new ArrayList<>(members);
    others.sort(Comparator.comparing(MemberInfo::name));
    ordered.addAll(others);
    StringBuilder sb = new StringBuilder();
    List<String> seen = new ArrayList<>(ordered.size());
    for (MemberInfo m : ordered) {
      if (m.clientUrl() == null || seen.contains(m.name())) {
        continue;
      }
      seen.add(m.name());
      if (sb.length() > 0) {
        sb.append(", ");
      }
      sb.append(m.clientUrl());
    }
    return sb.toString();
  }

  /** {@code rest} is what follows {@code /v1/stats}: {@code ""}, {@code "/"}, {@code "/self"}, ... */
  void stats(Exchange exchange, String rest) {
    switch (rest) {
      case "/self" -> exchange.respondJson(selfStats());
      case "/leader" -> leaderStats(exchange);
      case "/store" -> exchange.respondJson(stats.toJson());
      default -> exchange.respondEmpty(HttpResponseStatus.OK);
    }
  }

  /**
   * {@code DELETE /remove/<name>} (etcd 0.1.2's peer API, served here on the client port): removes
   * the member from the cluster; 200 with an empty body once the new configuration is committed.
   * An unknown name is error 100; a refusal (the last member, no leader, a removal that would
   * leave no majority of members that answer) is error 300 with the reason. Any other method: 405.
   */
  void remove(Exchange exchange, io.netty.handler.codec.http.FullHttpRequest request, String rawName) {
    if (!request.method().equals(io.netty.handler.codec.http.HttpMethod.DELETE)) {
      exchange.respondMethodNotAllowed("DELETE");
      return;
    }
    String name = UrlDecoding.decodePath(rawName, 0, rawName.length());
    if (name == null || name.isEmpty() || name.contains("/")) {
      exchange.respondError(EtcdError.KEY_NOT_FOUND, "remove: " + rawName);
      return;
    }
    replica.removeMember(name).whenComplete((v, error) -> exchange.execute(() -> {
      if (error == null) {
        exchange.respondEmpty(HttpResponseStatus.OK);
        return;
      }
      Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
          ? error.getCause() : error;
      if (cause instanceof org.etcdjvm.embedded.internal.store.StoreException e) {
        exchange.respondError(e.error(), e.cause());
      } else {
        exchange.respondError(EtcdError.RAFT_INTERNAL, "remove: " + cause.getMessage());
      }
    }));
  }

  void version(Exchange exchange) {
    exchange.respondText(VERSION);
  }

  /**
   * {@code {"name":..,"state":"leader"|"follower","startTime":..,"leaderInfo":{"leader":..,"uptime":..}}}.
   * {@code uptime} is how long this node has run, in Go's duration notation; the leader's name is
   * {@code ""} during an election.
   */
  private byte[] selfStats() {
    Instant now = Instant.now();
    ZoneId zone = ZoneId.systemDefault();
    String leaderName = replica.leader().map(MemberInfo::name).orElse("");
    StringBuilder sb = new StringBuilder(160);
    sb.append("{\"name\":");
    V1Json.writeString(sb, replica.name());
    sb.append(",\"state\":\"").append(replica.isLeader() ? "leader" : "follower");
    sb.append("\",\"startTime\":");
    V1Json.writeString(sb, V1Json.expiration(replica.startTime(), zone));
    sb.append(",\"leaderInfo\":{\"leader\":");
    V1Json.writeString(sb, leaderName);
    sb.append(",\"uptime\":");
    V1Json.writeString(sb, goDuration(Duration.between(replica.startTime(), now)));
    sb.append("}}");
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** On the leader its followers (no per-follower numbers yet); elsewhere a 307 like a write. */
  private void leaderStats(Exchange exchange) {
    if (!replica.isLeader()) {
      exchange.respond(LeaderRedirect.to(replica.leader(), replica.name(), exchange.version(), exchange.rawPath(),
          exchange.rawQuery()));
      return;
    }
    List<MemberInfo> members = new ArrayList<>(replica.members());
    members.sort(Comparator.comparing(MemberInfo::name));
    StringBuilder sb = new StringBuilder(64);
    sb.append("{\"leader\":");
    V1Json.writeString(sb, replica.name());
    sb.append(",\"followers\":{");
    boolean first = true;
    for (MemberInfo m : members) {
      if (m.name().equals(replica.name())) {
        continue;
      }
      if (!first) {
        sb.append(',');
      }
      first = false;
      V1Json.writeString(sb, m.name());
      sb.append(":{}");
    }
    sb.append("}}");
    exchange.respondJson(sb.toString().getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Go's {@code time.Duration.String()}: {@code 72h3m0.5s}, {@code 1m1s}, {@code 1.5s},
   * {@code 2.5ms}, {@code 0s}. Negative durations (a clock step) are shown as {@code 0s}.
   */
  static String goDuration(Duration d) {
    long nanos;
    try {
      nanos = d.toNanos();
    } catch (ArithmeticException tooLong) {
      nanos = Long.MAX_VALUE;
    }
    if (nanos <= 0) {
      return "0s";
    }
    StringBuilder sb = new StringBuilder(24);
    if (nanos < 1_000_000_000L) {
      String unit;
      long scale;
      if (nanos < 1_000L) {
        return sb.append(nanos).append("ns").toString();
      } else if (nanos < 1_000_000L) {
        unit = "\u00b5s";
        scale = 1_000L;
      } else {
        unit = "ms";
        scale = 1_000_000L;
      }
      appendFraction(sb, nanos / scale, nanos % scale, digits(scale));
      return sb.append(unit).toString();
    }
    long seconds = nanos / 1_000_000_000L;
    long fraction = nanos % 1_000_000_000L;
    long hours = seconds / 3600;
    long minutes = (seconds / 60) % 60;
    if (hours > 0) {
      sb.append(hours).append('h');
    }
    if (hours > 0 || minutes > 0) {
      sb.append(minutes).append('m');
    }
    appendFraction(sb, seconds % 60, fraction, 9);
    return sb.append('s').toString();
  }

  private static int digits(long scale) {
    return Long.toString(scale).length() - 1;
  }

  /** {@code whole[.fraction]} with {@code width} fraction digits, trailing zeros trimmed. */
  private static void appendFraction(StringBuilder sb, long whole, long fraction, int width) {
    sb.append(whole);
    if (fraction == 0) {
      return;
    }
    String f = Long.toString(fraction);
    StringBuilder padded = new StringBuilder(width);
    for (int i = f.length(); i < width; i++) {
      padded.append('0');
    }
    padded.append(f);
    int end = padded.length();
    while (end > 0 && padded.charAt(end - 1) == '0') {
      end--;
    }
    sb.append('.').append(padded, 0, end);
  }
}
