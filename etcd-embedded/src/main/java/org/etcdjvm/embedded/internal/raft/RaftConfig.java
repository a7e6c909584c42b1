package org.etcdjvm.embedded.internal.raft;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.etcdjvm.embedded.internal.store.StoreLimits;

/**
 * Everything a {@link RaftNode} needs. {@code electionTimeout} and {@code heartbeatInterval} may be
 * null: then 100/50 ms for a single member, 500/100 ms for a group.
 *
 * @param peerAddress   this member's {@code host:port} for Raft traffic (also its member id)
 * @param peers         the other members' peer addresses
 * @param requestTimeout reply timeout of each Raft request between members (Atomix uses 5 s)
 * @param commitTimeout how long a write may wait for its commit before it fails as "outcome unknown"
 * @param tickInterval  how often the leader checks for due TTLs
 * @param sessions      Raft sessions carrying writes, each with at most one batch in flight
 * @param maxBatchOps   writes per Raft command at most
 * @param segmentBytes  size of a log segment; compaction frees whole segments. A Raft entry (one
 *                      batch) is at most half of it, capped at 8 MiB, and must hold the largest
 *                      single write (key + value limits), so keep it at 8 MiB or more in production
 */
public record RaftConfig(
    String name,
    Path dataDir,
    String peerAddress,
    List<String> peers,
    Duration electionTimeout,
    Duration heartbeatInterval,
    Duration sessionTimeout,
    Duration requestTimeout,
    Duration commitTimeout,
    Duration tickInterval,
    int sessions,
    int maxBatchOps,
    int segmentBytes,
    StoreLimits limits) {

  public RaftConfig {
    peers = List.copyOf(peers);
  }
}
