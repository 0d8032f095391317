/*
 * list.h — intrusive lists: rlist (doubly linked, O(1) unlink) and stailq
 * (singly linked with a tail pointer, O(1) append and O(1) concatenation).
 *
 * The containers store no memory of their own: the link lives inside the
 * object (a cmsg, a connection), so putting an object on a list can never
 * fail. stailq is what cbus uses for its queues: a producer appends to a
 * private stailq and a flush splices the whole batch onto the consumer's
 * queue in one step (DESIGN.md §5).
 */
#ifndef KHARON_BASE_LIST_H
#define KHARON_BASE_LIST_H

#include <stddef.h>
#include <stdbool.h>

/** The object that contains `ptr`, a pointer to its `member`. */
#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* ---------------------------------------------------------------- rlist */

struct rlist {
	struct rlist *prev;
	struct rlist *next;
};

static inline void
rlist_create(struct rlist *head)
{
	head->prev = head->next = head;
}

static inline bool
rlist_empty(const struct rlist *head)
{
	return head->next == head;
}

static inline void
rlist_add_tail(struct rlist *head, struct rlist *item)
{
	item->next = head;
	item->prev = head->prev;
	head->prev->next = item;
	head->prev = item;
}

static inline void
rlist_del(struct rlist *item)
{
	item->prev->next = item->next;
	item->next->prev = item->prev;
	rlist_create(item);
}

static inline struct rlist *
rlist_shift(struct rlist *head)
{
	struct rlist *first = head->next;
	rlist_del(first);
	return first;
}

#define rlist_first_entry(head, type, member) \
	container_of((head)->next, type, member)

#define rlist_foreach(item, head) \
	for ((item) = (head)->next; (item) != (head); (item) = (item)->next)

/** Safe against removal of `item`; `tmp` is scratch. */
#define rlist_foreach_safe(item, head, tmp) \
	for ((item) = (head)->next, (tmp) = (item)->next; (item) != (head); \
	     (item) = (tmp), (tmp) = (item)->next)

/* --------------------------------------------------------------- stailq */

struct stailq_entry {
	struct stailq_entry *next;
};

struct stailq {
	struct stailq_entry *first;
	/** Points at the last entry's `next`, or at `first` when empty. */
	struct stailq_entry **last;
};

static inline void
stailq_create(struct stailq *q)
{
	q->first = NULL;
	q->last = &q->first;
}

static inline bool
stailq_empty(const struct stailq *q)
{
	return q->first == NULL;
}

static inline void
stailq_add_tail(struct stailq *q, struct stailq_entry *item)
{
	item->next = NULL;
	*q->last = item;
	q->last = &item->next;
}

/** Remove and return the first entry, or NULL when empty. */
static inline struct stailq_entry *
stailq_shift(struct stailq *q)
{
	struct stailq_entry *item = q->first;
	if (item == NULL)
		return NULL;
	q->first = item->next;
	if (q->first == NULL)
		q->last = &q->first;
	return item;
}

/** Move every entry of `src` to the tail of `dst`, in order; O(1). */
static inline void
stailq_concat(struct stailq *dst, struct stailq *src)
{
	if (src->first == NULL)
		return;
	*dst->last = src->first;
	dst->last = src->last;
	stailq_create(src);
}

#endif /* KHARON_BASE_LIST_H */
