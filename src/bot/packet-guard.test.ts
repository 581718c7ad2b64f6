import { describe, expect, it } from 'vitest';
import { interactionProblem } from './packet-guard.ts';

const user = { id: '1', username: 'a' };
const base = { id: '10', token: 't', application_id: '20', member: { user, roles: [] } };

describe('interactionProblem', () => {
  it('accepts whole commands, buttons, modals and autocomplete', () => {
    expect(interactionProblem({ ...base, type: 2, data: { id: '3', name: 'mail', options: [] } })).toBeUndefined();
    expect(interactionProblem({ ...base, type: 4, data: { id: '3', name: 'mail' } })).toBeUndefined();
    expect(interactionProblem({ ...base, type: 3, data: { custom_id: 'x', component_type: 2 }, message: { id: '5' } })).toBeUndefined();
    expect(
      interactionProblem({ id: '10', token: 't', application_id: '20', user, type: 5, data: { custom_id: 'x', components: [] } })
    ).toBeUndefined();
  });

  it('names what discord.js would trip over', () => {
    expect(interactionProblem(null)).toBe('the payload is not an object');
    expect(interactionProblem({ ...base, token: undefined, type: 2 })).toBe('"token" is missing');
    expect(interactionProblem({ ...base, member: { user: {} }, type: 2, data: {} })).toBe('the user is missing');
    expect(interactionProblem({ ...base, member: { user }, type: 2, data: {} })).toBe('the member has no role list');
    expect(interactionProblem({ ...base, type: 2 })).toBe('"data" is missing');
    expect(interactionProblem({ ...base, type: 2, data: { id: '3', name: 'mail', options: {} } })).toBe('the options are not a list');
    expect(interactionProblem({ ...base, type: 3, data: { custom_id: 'x' } })).toBe('the message of the component is missing');
    expect(interactionProblem({ ...base, type: 5, data: {} })).toBe('the custom id is missing');
    expect(interactionProblem({ ...base, type: 99, data: {} })).toBe('type 99 is not an interaction type mailops handles');
  });
});
