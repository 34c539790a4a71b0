/* workflow.h: the states of an application and the actions between them, as data.
 *
 * The default workflow (办件流程): draft -> submitted -> accepted (受理; the clock starts) ->
 * under review -> approved -> completed (办结), with not accepted (不予受理), supplement
 * requested (补正: the clock stops until the applicant resubmits), special procedure (特别程序:
 * the clock stops), denied and withdrawn on the way. workflow_check() proves at start that
 * the table is sound: every state reachable from draft, every non-terminal state has a way
 * out, every action names who may take it.
 */
#ifndef GH_WORKFLOW_H
#define GH_WORKFLOW_H
#include <stdbool.h>
#include <stddef.h>

/* Who may take an action. */
enum wf_actor {
	WF_APPLICANT = 1 << 0, /* the applicant, or an agent of the enterprise applying */
	WF_COUNTER = 1 << 1,   /* staff of the item's department with the counter duty */
	WF_REVIEWER = 1 << 2,  /* staff of the department with the reviewer duty */
	WF_HEAD = 1 << 3,      /* the department head */
};

/* What an action does to the clock. */
enum wf_clock {
	WF_CLOCK_NONE = 0,
	WF_CLOCK_START,  /* acceptance: the promised and legal limits start counting */
	WF_CLOCK_PAUSE,  /* supplement requested, special procedure */
	WF_CLOCK_RESUME, /* material supplied, special procedure over */
	WF_CLOCK_STOP,   /* a decision or a withdrawal: the case leaves the clock */
};

struct wf_state {
	const char *code;      /* stored in applications.state */
	const char *name_zh, *name_en;
	bool terminal;
	bool paused;           /* the clock stands still in this state */
	bool decided;          /* a decision was made (approved, denied, not accepted...) */
	bool concluded;        /* 办结: counted as concluded in the statistics (stats/rollup.c) */
};

struct wf_action {
	const char *code;      /* "accept", "approve", ... */
	const char *name_zh, *name_en;
	const char *from[6];   /* states it applies to (NULL-terminated) */
	const char *to;        /* target state; NULL = back to the state the case came from */
	unsigned actors;       /* WF_* bits */
	enum wf_clock clock;
	bool needs_reason;     /* a refusal, denial, supplement or special procedure says why */
	bool logged;           /* a decision: its leaf in the transparency log is of kind "decision"
				* (every other transition's is "transition"; ledger_is_decision) */
};

extern const struct wf_state wf_states[];
extern const size_t wf_states_n;
extern const struct wf_action wf_actions[];
extern const size_t wf_actions_n;

const struct wf_state *wf_state(const char *code);
const struct wf_action *wf_action(const char *code);
/* True when action applies to state. */
bool wf_allows(const struct wf_action *a, const char *state);

/* Checks the table; returns 0, or -1 with the problem in err. */
int workflow_check(const struct wf_state *states, size_t ns, const struct wf_action *actions, size_t na,
		   char *err, size_t errlen);

#endif
