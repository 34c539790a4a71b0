#include "cases/workflow.h"

#include <stdio.h>
#include <string.h>

#include "base/util.h"

const struct wf_state wf_states[] = {
	{ "draft", false, false, false },
	{ "submitted", false, false, false },
	{ "supplement", false, true, false },
	{ "accepted", false, false, false },
	{ "under_review", false, false, false },
	{ "special", false, true, false },
	{ "approved", false, false, true },
	{ "completed", true, false, true, true },
	{ "not_accepted", true, false, true },
	{ "denied", true, false, true, true },
	{ "withdrawn", true, false, false },
	{ "awaiting_payment", false, true, false },
};
const size_t wf_states_n = ARRAY_LEN(wf_states);

#define STAFF_ANY (WF_COUNTER | WF_REVIEWER | WF_HEAD)

const struct wf_action wf_actions[] = {
	{ "submit", { "draft", NULL }, "submitted", WF_APPLICANT | WF_COUNTER, WF_CLOCK_NONE, false, false },
	{ "accept", { "submitted", NULL }, "accepted", WF_COUNTER | WF_HEAD, WF_CLOCK_START, false, true },
	{ "refuse", { "submitted", NULL }, "not_accepted", WF_COUNTER | WF_HEAD,
	  WF_CLOCK_STOP, true, true },
	{ "request_supplement", { "submitted", "under_review", NULL },
	  "supplement", STAFF_ANY, WF_CLOCK_PAUSE, true, false },
	{ "resubmit", { "supplement", NULL }, NULL, WF_APPLICANT | WF_COUNTER,
	  WF_CLOCK_RESUME, false, false },
	{ "start_review", { "accepted", NULL }, "under_review", WF_REVIEWER | WF_HEAD,
	  WF_CLOCK_NONE, false, false },
	{ "start_special", { "under_review", NULL }, "special",
	  WF_REVIEWER | WF_HEAD, WF_CLOCK_PAUSE, true, false },
	{ "end_special", { "special", NULL }, NULL, WF_REVIEWER | WF_HEAD,
	  WF_CLOCK_RESUME, false, false },
	{ "approve", { "under_review", NULL }, "approved", WF_REVIEWER | WF_HEAD, WF_CLOCK_STOP,
	  false, true },
	{ "deny", { "under_review", NULL }, "denied", WF_REVIEWER | WF_HEAD, WF_CLOCK_STOP, true, true },
	{ "complete", { "approved", NULL }, "completed", WF_COUNTER | WF_HEAD, WF_CLOCK_NONE, false,
	  true },
	{ "withdraw",
	  { "submitted", "under_review", "special", "awaiting_payment", NULL }, "withdrawn",
	  WF_APPLICANT, WF_CLOCK_STOP, false, false },
	/* The fee (src/pay): due where the item's payment point is, then back where the case was. */
	{ "request_payment", { "submitted", "approved", NULL }, "awaiting_payment",
	  WF_SYSTEM, WF_CLOCK_NONE, false, false },
	{ "payment_received", { "awaiting_payment", NULL }, NULL, WF_SYSTEM, WF_CLOCK_NONE,
	  false, false },
	/* 秒批: every decision rule of the item version holds at submission (cases/rules.c). */
	{ "instant_approve", { "submitted", NULL }, "approved", WF_SYSTEM, WF_CLOCK_STOP, false, true },
};
const size_t wf_actions_n = ARRAY_LEN(wf_actions);

const struct wf_state *wf_state(const char *code)
{
	for (size_t i = 0; code && i < wf_states_n; i++)
		if (strcmp(wf_states[i].code, code) == 0)
			return &wf_states[i];
	return NULL;
}

const struct wf_action *wf_action(const char *code)
{
	for (size_t i = 0; code && i < wf_actions_n; i++)
		if (strcmp(wf_actions[i].code, code) == 0)
			return &wf_actions[i];
	return NULL;
}

bool wf_allows(const struct wf_action *a, const char *state)
{
	for (size_t i = 0; a->from[i]; i++)
		if (strcmp(a->from[i], state) == 0)
			return true;
	return false;
}

static int find_state(const struct wf_state *states, size_t ns, const char *code)
{
	for (size_t i = 0; code && i < ns; i++)
		if (strcmp(states[i].code, code) == 0)
			return (int)i;
	return -1;
}

int workflow_check(const struct wf_state *states, size_t ns, const struct wf_action *actions, size_t na,
		   char *err, size_t errlen)
{
	bool reach[64] = { false }, exit_[64] = { false };
	if (ns == 0 || ns > 64) {
		snprintf(err, errlen, "workflow: %zu states (1 to 64 allowed)", ns);
		return -1;
	}
	for (size_t i = 0; i < na; i++) {
		const struct wf_action *a = &actions[i];
		if (!a->actors) {
			snprintf(err, errlen, "workflow: action %s names nobody who may take it", a->code);
			return -1;
		}
		if (!a->from[0]) {
			snprintf(err, errlen, "workflow: action %s applies to no state", a->code);
			return -1;
		}
		for (size_t k = 0; a->from[k]; k++) {
			int s = find_state(states, ns, a->from[k]);
			if (s < 0) {
				snprintf(err, errlen, "workflow: action %s starts from unknown state %s", a->code, a->from[k]);
				return -1;
			}
			if (states[s].terminal) {
				snprintf(err, errlen, "workflow: action %s leaves terminal state %s", a->code, a->from[k]);
				return -1;
			}
			if (!a->to && !states[s].paused) {
				snprintf(err, errlen, "workflow: action %s returns from %s, which is not a paused state",
					 a->code, a->from[k]);
				return -1;
			}
			exit_[s] = true;
		}
		if (a->to && find_state(states, ns, a->to) < 0) {
			snprintf(err, errlen, "workflow: action %s leads to unknown state %s", a->code, a->to);
			return -1;
		}
	}
	/* Reachability from the first state; a return action reaches where its paused state was
	 * entered from. */
	reach[0] = true;
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t i = 0; i < na; i++) {
			const struct wf_action *a = &actions[i];
			for (size_t k = 0; a->from[k]; k++) {
				int s = find_state(states, ns, a->from[k]);
				if (!reach[s] || !a->to)
					continue;
				int t = find_state(states, ns, a->to);
				if (!reach[t])
					reach[t] = changed = true;
			}
		}
	}
	for (size_t s = 0; s < ns; s++) {
		if (!reach[s]) {
			snprintf(err, errlen, "workflow: state %s cannot be reached", states[s].code);
			return -1;
		}
		if (!states[s].terminal && !exit_[s]) {
			snprintf(err, errlen, "workflow: state %s is a dead end but not terminal", states[s].code);
			return -1;
		}
		if (states[s].terminal && exit_[s]) {
			snprintf(err, errlen, "workflow: terminal state %s has a way out", states[s].code);
			return -1;
		}
	}
	return 0;
}
