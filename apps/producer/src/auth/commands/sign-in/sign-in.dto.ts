import { z } from 'zod';
import { emailField, passwordField } from '../../credentials.schema';

export const signInRequestSchema = z.object({ email: emailField, password: passwordField }).strict();

export type SignInRequest = z.output<typeof signInRequestSchema>;
