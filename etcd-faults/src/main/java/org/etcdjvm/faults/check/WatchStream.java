package org.etcdjvm.faults.check;

import java.util.ArrayList;
import java.util.List;

/**
 * What one continuous watch delivered, in arrival order: events, and gaps where it was told the
 * server's history no longer reached back (error 401) and resumed further on. Thread-safe.
 */
public final class WatchStream {
  /** One delivered item. */
  public sealed interface Item permits Event, Gap {}

  /**
   * A delivered event. {@code prevValue}, {@code value} and {@code expiration} are null when the
   * event had none; {@code receivedAt} is the wall-clock millisecond it arrived.
   */
  public record Event(long index, String action, String key, String value, String prevValue, boolean newKey,
      String expiration, long receivedAt) implements Item {
    public boolean isSet() {
      return "SET".equals(action);
    }

    public boolean isDelete() {
      return "DELETE".equals(action);
    }

    /** The same change as {@code o} (arrival time aside). */
    public boolean sameAs(Event o) {
      return index == o.index && action.equals(o.action) && key.equals(o.key)
          && java.util.Objects.equals(value, o.value) && java.util.Objects.equals(prevValue, o.prevValue)
          && newKey == o.newKey && java.util.Objects.equals(expiration, o.expiration);
    }

    public String describe() {
      StringBuilder b = new StringBuilder().append(index).append(' ').append(action).append(' ').append(key);
      if (value != null) {
        b.append(" value=").append(value);
      }
      if (prevValue != null) {
        b.append(" prevValue=").append(prevValue);
      }
      if (newKey) {
        b.append(" newKey");
      }
      if (expiration != null) {
        b.append(" expiration=").append(expiration);
      }
      return b.toString();
    }
  }

  /** Indexes {@code from} .. {@code resume - 1} were not delivered: the watch was told so and resumed at {@code resume}. */
  public record Gap(long from, long resume, String why) implements Item {}

  public final String name;
  /** True for a watch pinned to one member (its events are that replica's apply stream). */
  public final boolean member;
  public final long startIndex;
  private final List<Item> items = new ArrayList<>();

  public WatchStream(String name, boolean member, long startIndex) {
    this.name = name;
    this.member = member;
    this.startIndex = startIndex;
  }

  public synchronized void event(Event e) {
    items.add(e);
  }

  public synchronized void gap(long from, long resume, String why) {
    items.add(new Gap(from, resume, why));
  }

  public synchronized List<Item> items() {
    return new ArrayList<>(items);
  }

  /** The highest index delivered so far, or startIndex - 1. */
  public synchronized long lastIndex() {
    long last = startIndex - 1;
    for (Item i : items) {
      if (i instanceof Event e) {
        last = Math.max(last, e.index());
      } else if (i instanceof Gap g) {
        last = Math.max(last, g.resume() - 1);
      }
    }
    return last;
  }

  public synchronized int events() {
    int n = 0;
    for (Item i : items) {
      if (i instanceof Event) {
        n++;
      }
    }
    return n;
  }

  public synchronized int gaps() {
    return items.size() - events();
  }

  @Override
  public String toString() {
    return name;
  }
}
