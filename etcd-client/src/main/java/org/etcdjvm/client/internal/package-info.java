/**
 * Implementation of {@link org.etcdjvm.client}: transport, endpoint failover, JSON codec and the
 * continuous watch loop.
 *
 * <p><strong>Not an API.</strong> Types here are public only so that the API package can reach
 * them; they may change in any release without notice.
 */
package org.etcdjvm.client.internal;
