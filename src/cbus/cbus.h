/*
 * cbus.h — Tarantool's inter-cord message bus, in three pieces:
 *
 *   cmsg.h           a message and its route of hops {f, pipe}
 *   cpipe.h          the producer's batching pipe
 *   cbus_endpoint.h  the consumer's named queue
 *
 * DESIGN.md §5; lesson lessons/en/02-cbus-batching.md.
 */
#ifndef KHARON_CBUS_CBUS_H
#define KHARON_CBUS_CBUS_H

#include "cbus/cmsg.h"
#include "cbus/cpipe.h"
#include "cbus/cbus_endpoint.h"

#endif /* KHARON_CBUS_CBUS_H */
