// Typed context wrappers: the layout creates the Session once and every screen below reads it,
// so no module-level variable ever holds one user's data.
import { createContext } from 'svelte';
import type { Session } from './session.svelte';

export const [getSession, setSession] = createContext<Session>();
