package org.etcdjvm.faults;

import java.time.Duration;

/**
 * What makes a schedule: the seed (the nemesis's choices and every client's), the cluster size
 * and how long faults are injected. Written {@code seed:nodes:seconds}, the form a replay takes.
 */
record Schedule(long seed, int nodes, Duration length) {
  Schedule {
    if (nodes != 3 && nodes != 5) {
      throw new IllegalArgumentException("clusters of 3 or 5 nodes: " + nodes);
    }
    if (length.isNegative() || length.isZero()) {
      throw new IllegalArgumentException("length must be positive: " + length);
    }
  }

  static Schedule parse(String spec) {
    String[] p = spec.strip().split(":");
    if (p.length != 3) {
      throw new IllegalArgumentException("a schedule is seed:nodes:seconds, got " + spec);
    }
    return new Schedule(Long.parseLong(p[0]), Integer.parseInt(p[1]), Duration.ofSeconds(Long.parseLong(p[2])));
  }

  @Override
  public String toString() {
    return seed + ":" + nodes + ":" + length.toSeconds();
  }
}
