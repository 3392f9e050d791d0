import { z } from 'zod';
import { emailField, newPasswordField } from '../../credentials.schema';

export const signUpRequestSchema = z.object({ email: emailField, password: newPasswordField }).strict();

export type SignUpRequest = z.output<typeof signUpRequestSchema>;
