package org.etcdjvm.embedded.internal.raft;

import java.util.Objects;

/**
 * One member of the cluster as the HTTP layer needs to know it.
 *
 * @param name      the member's name (etcd's {@code -n})
 * @param peerUrl   its Raft peer URL, e.g. {@code http://127.0.0.1:7001}
 * @param clientUrl its client URL, e.g. {@code http://127.0.0.1:4001}; {@code null} while not yet known
 */
public record MemberInfo(String name, String peerUrl, String clientUrl) {
  public MemberInfo {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(peerUrl, "peerUrl");
  }
}
