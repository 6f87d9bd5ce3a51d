/** Socket tags stay under the runtime's 256 characters. */
export const clientTag = (client: string) => `client:${client.slice(0, 200)}`;
export const credentialTag = (credential: string) => `credential:${credential.slice(0, 200)}`;
export const tokenTag = (tokenId: string) => `token:${tokenId.slice(0, 200)}`;
export const subjectTag = (subject: string) => `subject:${subject.slice(0, 200)}`;
