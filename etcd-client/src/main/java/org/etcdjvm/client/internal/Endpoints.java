package org.etcdjvm.client.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import okhttp3.HttpUrl;

/**
 * The cluster's client URLs as this client knows them: which one reads and watches use, which
 * one writes go to, and which to try next when one fails.
 *
 * <p>Thread-safe. Readers see a consistent snapshot through volatile fields; changes are
 * serialized by {@code synchronized}.
 */
public final class Endpoints {
  private final List<HttpUrl> seeds;
  private volatile List<HttpUrl> members;
  private volatile HttpUrl preferred;
  private volatile HttpUrl leader;

  public Endpoints(List<HttpUrl> seeds) {
    if (seeds.isEmpty()) throw new IllegalArgumentException("no endpoints");
    this.seeds = List.copyOf(seeds);
    this.members = this.seeds;
    this.preferred = this.seeds.get(0);
  }

  /**
   * Whether every configured endpoint is {@code https://}: then this client never sends to a plain
   * {@code http://} URL (a member list naming one is not followed there).
   */
  public boolean httpsOnly() {
    for (HttpUrl seed : seeds) {
      if (!seed.isHttps()) return false;
    }
    return true;
  }

  /** Where reads and watches go. */
  public HttpUrl forRead() {
    return preferred;
  }

  /** Where writes go: the last known leader, else the read endpoint (which redirects if needed). */
  public HttpUrl forWrite() {
    HttpUrl l = leader;
    return l != null ? l : preferred;
  }

  public List<HttpUrl> members() {
    return members;
  }

  /** The leader learned from a redirect or from {@code /v1/machines}, or null. */
  public HttpUrl leader() {
    return leader;
  }

  /**
   * Records that {@code failed} did not answer. Forgets it as leader and, if it was the read
   * endpoint, moves reads to the next member. Returns true if the read endpoint moved.
   */
  public synchronized boolean reportFailure(HttpUrl failed) {
    if (failed.equals(leader)) leader = null;
    if (!failed.equals(preferred)) return false;
    List<HttpUrl> m = members;
    int i = m.indexOf(failed);
    HttpUrl next = m.get((i + 1) % m.size());
    if (next.equals(failed)) return false;
    preferred = next;
    return true;
  }

  /** The next endpoint to try, starting at the read endpoint, skipping {@code tried}; or null. */
  public HttpUrl next(Set<HttpUrl> tried) {
    List<HttpUrl> m = members;
    HttpUrl p = preferred;
    if (!tried.contains(p)) return p;
    int start = Math.max(0, m.indexOf(p));
    for (int k = 0, n = m.size(); k < n; k++) {
      HttpUrl candidate = m.get((start + k) % n);
      if (!tried.contains(candidate)) return candidate;
    }
    return null;
  }

  /** A follower redirected a write to {@code base}: remember it for the next writes. */
  public synchronized void leaderFound(HttpUrl base) {
    leader = base;
    if (!members.contains(base)) {
      List<HttpUrl> m = new ArrayList<>(members);
      m.add(base);
      members = List.copyOf(m);
    }
  }

  /**
   * Replaces the member list with {@code machines} (leader first, as {@code /v1/machines} lists
   * them), keeping the configured seeds after them as a fallback.
   */
  public synchronized void membersFound(List<HttpUrl> machines) {
    if (machines.isEmpty()) return;
    Collection<HttpUrl> all = new LinkedHashSet<>(machines);
    all.addAll(seeds);
    members = List.copyOf(all);
    leader = machines.get(0);
  }

  /** {@code scheme://host:port/} of {@code url}. */
  public static HttpUrl baseOf(HttpUrl url) {
    return new HttpUrl.Builder().scheme(url.scheme()).host(url.host()).port(url.port()).build();
  }
}
