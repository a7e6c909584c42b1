package org.etcdjvm.embedded.internal.http;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import java.util.Optional;
import org.etcdjvm.embedded.internal.raft.MemberInfo;
import org.etcdjvm.embedded.internal.store.EtcdError;

/**
 * What a member that cannot take a write answers: {@code 307 Temporary Redirect} to the same
 * request at the leader's client URL, or error 300 (HTTP 500) when there is no leader to send the
 * client to. Stateless and thread-safe.
 *
 * <p>Unlike etcd 0.1.x, the query string is kept (v1-api.md Part A), so {@code ?value=...} writes
 * survive the redirect.
 */
final class LeaderRedirect {
  private LeaderRedirect() {}

  /** The {@code cause} of error 300 when no leader is known. */
  static final String NO_LEADER = "no leader";

  /**
   * The response for a request that must go to the leader.
   *
   * @param leader   the current leader, if known
   * @param selfName this member's name: a leader that is this very member (a stale view during an
   *     election) is treated as unknown, so a client never gets redirected to where it already is
   */
  static FullHttpResponse to(
      Optional<MemberInfo> leader, String selfName, HttpVersion version, String rawPath, String rawQuery) {
    String location = leader
        .filter(l -> l.clientUrl() != null && !l.name().equals(selfName))
        .map(l -> location(l.clientUrl(), rawPath, rawQuery))
        .orElse(null);
    if (location == null) {
      return HttpResponses.error(version, EtcdError.RAFT_INTERNAL, NO_LEADER);
    }
    return HttpResponses.redirect(version, location);
  }

  /**
   * {@code <clientUrl><rawPath>[?<rawQuery>]}. A trailing slash of the client URL is dropped; the
   * path and query stay as the client encoded them, except that bytes a header cannot carry
   * verbatim (controls, space, non-ASCII) are percent-encoded, which means the same to the leader.
   */
  static String location(String clientUrl, String rawPath, String rawQuery) {
    int baseEnd = clientUrl.length();
    while (baseEnd > 0 && clientUrl.charAt(baseEnd - 1) == '/') {
      baseEnd--;
    }
    StringBuilder sb = new StringBuilder(baseEnd + rawPath.length() + (rawQuery == null ? 0 : rawQuery.length() + 1));
    sb.append(clientUrl, 0, baseEnd);
    appendSafe(sb, rawPath);
    if (rawQuery != null && !rawQuery.isEmpty()) {
      sb.append('?');
      appendSafe(sb, rawQuery);
    }
    return sb.toString();
  }

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private static void appendSafe(StringBuilder sb, String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c > 0x20 && c < 0x7F) {
        sb.append(c);
      } else {
        int b = c & 0xFF; // the request line is ISO-8859-1: one char per wire byte
        sb.append('%').append(HEX[b >> 4]).append(HEX[b & 0xF]);
      }
    }
  }
}
