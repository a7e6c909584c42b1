package org.etcdjvm.faults.check;

import java.util.Map;

/**
 * A plain (local) read of one member: a listing of a directory, answered from that replica alone.
 * {@code values} maps each key listed to its value; {@code index} is the replica's store index the
 * listing reported. {@code incarnation} counts the member's process starts.
 */
public record LocalRead(String node, int incarnation, long invoke, long complete, long index, Map<String, String> values) {
  public LocalRead {
    values = Map.copyOf(values);
  }
}
